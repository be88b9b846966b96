"""Events a command produces, held on its session until the transaction commits.

Nothing is announced for work that is rolled back: the unit of work takes the events
only after a successful commit and drops them on rollback.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.plugins.contracts import StageChanged

_PENDING = "spm_pending_events"


def record(session: AsyncSession, event: StageChanged) -> None:
    session.info.setdefault(_PENDING, []).append(event)


def take(session: AsyncSession) -> list[StageChanged]:
    """The events of the work just committed, removed from the session."""
    events: list[StageChanged] = session.info.pop(_PENDING, [])
    return events


def discard(session: AsyncSession) -> None:
    session.info.pop(_PENDING, None)
