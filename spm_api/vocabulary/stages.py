"""The lifecycle stage machine: which stage may follow which, and the derived section."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    DEFINITION = "DEFINITION"
    ANALYSIS = "ANALYSIS"
    APPROVAL = "APPROVAL"
    CHARTERED = "CHARTERED"
    LIVE = "LIVE"
    RETIRED = "RETIRED"
    REJECTED = "REJECTED"


class Section(StrEnum):
    """Where a service sits in the portfolio; always derived from its stage."""

    PIPELINE = "PIPELINE"
    CATALOGUE = "CATALOGUE"
    RETIRED = "RETIRED"


SECTION_OF_STAGE: dict[Stage, Section] = {
    Stage.DEFINITION: Section.PIPELINE,
    Stage.ANALYSIS: Section.PIPELINE,
    Stage.APPROVAL: Section.PIPELINE,
    Stage.CHARTERED: Section.PIPELINE,
    Stage.LIVE: Section.CATALOGUE,
    Stage.RETIRED: Section.RETIRED,
    Stage.REJECTED: Section.RETIRED,
}

#: The edges of the stage machine. Guards decide whether an edge may be taken.
NEXT_STAGES: dict[Stage, frozenset[Stage]] = {
    Stage.DEFINITION: frozenset({Stage.ANALYSIS}),
    Stage.ANALYSIS: frozenset({Stage.APPROVAL, Stage.DEFINITION}),
    Stage.APPROVAL: frozenset({Stage.CHARTERED, Stage.REJECTED}),
    Stage.CHARTERED: frozenset({Stage.LIVE}),
    Stage.LIVE: frozenset({Stage.RETIRED}),
    Stage.RETIRED: frozenset(),
    Stage.REJECTED: frozenset(),
}

#: Stages in which a service is closed to every change.
CLOSED_STAGES = frozenset({Stage.RETIRED, Stage.REJECTED})


def section_of(stage: Stage) -> Section:
    return SECTION_OF_STAGE[stage]


def stages_in(section: Section) -> list[Stage]:
    return [stage for stage, sec in SECTION_OF_STAGE.items() if sec is section]
