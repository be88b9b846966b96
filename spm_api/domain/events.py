"""Events a command produces, held on its session until the transaction commits.

Nothing is announced for work that is rolled back: the unit of work takes the events
only after a successful commit and drops them on rollback. Subscribers get them over
the event bus, plugins through the stage-changed hook.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.plugins.contracts import StageChanged

_PENDING = "spm_pending_events"


@dataclass(frozen=True, slots=True)
class VoteCast:
    organisation_id: int
    vote_id: int
    round_id: int
    service_id: int


@dataclass(frozen=True, slots=True)
class StatementsIssued:
    organisation_id: int
    period: str


@dataclass(frozen=True, slots=True)
class ServiceRetiring:
    """A service started RETIRING: its customers are to hear of the end date."""

    organisation_id: int
    service_id: int
    change_id: int


@dataclass(frozen=True, slots=True)
class KpiBreached:
    """A KPI's newest value went past its breach threshold."""

    organisation_id: int
    kpi_id: int
    service_id: int
    measurement_id: int


@dataclass(frozen=True, slots=True)
class StakeholderReportIssued:
    """A new stakeholder report of a service was issued."""

    organisation_id: int
    report_id: int
    service_id: int


DomainEvent = (StageChanged | VoteCast | StatementsIssued | ServiceRetiring | KpiBreached
               | StakeholderReportIssued)


def record(session: AsyncSession, event: DomainEvent) -> None:
    session.info.setdefault(_PENDING, []).append(event)


def take(session: AsyncSession) -> list[DomainEvent]:
    """The events of the work just committed, removed from the session."""
    events: list[DomainEvent] = session.info.pop(_PENDING, [])
    return events


def discard(session: AsyncSession) -> None:
    session.info.pop(_PENDING, None)
