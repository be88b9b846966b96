"""The lifecycle stage machine: which stage may follow which, and the derived section."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    DEFINITION = "DEFINITION"
    ANALYSIS = "ANALYSIS"
    APPROVAL = "APPROVAL"
    CHARTERED = "CHARTERED"
    LIVE = "LIVE"
    #: Phasing out: still delivered until its planned end date, then closed down.
    RETIRING = "RETIRING"
    RETIRED = "RETIRED"
    REJECTED = "REJECTED"
    #: A proposal its sponsors gave up in DEFINITION or ANALYSIS.
    WITHDRAWN = "WITHDRAWN"
    #: A chartered project stopped before it went live.
    CANCELLED = "CANCELLED"


class Section(StrEnum):
    """Where a service sits in the portfolio; always derived from its stage."""

    #: Proposed, being decided or being built: DEFINITION to CHARTERED.
    PIPELINE = "PIPELINE"
    #: Delivered to customers: LIVE, and RETIRING until it closes down.
    CATALOGUE = "CATALOGUE"
    #: Delivered once, now closed down: RETIRED.
    RETIRED = "RETIRED"
    #: Ended before it ever went live: REJECTED, WITHDRAWN or CANCELLED.
    TERMINATED = "TERMINATED"


SECTION_OF_STAGE: dict[Stage, Section] = {
    Stage.DEFINITION: Section.PIPELINE,
    Stage.ANALYSIS: Section.PIPELINE,
    Stage.APPROVAL: Section.PIPELINE,
    Stage.CHARTERED: Section.PIPELINE,
    Stage.LIVE: Section.CATALOGUE,
    Stage.RETIRING: Section.CATALOGUE,
    Stage.RETIRED: Section.RETIRED,
    Stage.REJECTED: Section.TERMINATED,
    Stage.WITHDRAWN: Section.TERMINATED,
    Stage.CANCELLED: Section.TERMINATED,
}

#: The edges of the stage machine. Guards decide whether an edge may be taken.
NEXT_STAGES: dict[Stage, frozenset[Stage]] = {
    Stage.DEFINITION: frozenset({Stage.ANALYSIS, Stage.WITHDRAWN}),
    Stage.ANALYSIS: frozenset({Stage.APPROVAL, Stage.DEFINITION, Stage.WITHDRAWN}),
    Stage.APPROVAL: frozenset({Stage.CHARTERED, Stage.REJECTED}),
    Stage.CHARTERED: frozenset({Stage.LIVE, Stage.CANCELLED}),
    Stage.LIVE: frozenset({Stage.RETIRING}),
    Stage.RETIRING: frozenset({Stage.RETIRED}),
    Stage.RETIRED: frozenset(),
    # Reworked: back to DEFINITION, to be decided again in a new approval round.
    Stage.REJECTED: frozenset({Stage.DEFINITION}),
    Stage.WITHDRAWN: frozenset(),
    Stage.CANCELLED: frozenset(),
}

#: Stages in which a service is closed to every change but the moves out of them.
CLOSED_STAGES = frozenset({Stage.RETIRED, Stage.REJECTED, Stage.WITHDRAWN, Stage.CANCELLED})


def section_of(stage: Stage) -> Section:
    return SECTION_OF_STAGE[stage]


def stages_in(section: Section) -> list[Stage]:
    return [stage for stage, sec in SECTION_OF_STAGE.items() if sec is section]
