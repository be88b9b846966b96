"""The stage-change history is written in id order per organisation.

Stage-change ids come from a sequence, so two transactions may take ids 10 and 11 and
commit 11 first. A subscriber that resumes after 11 would then never see 10. Writing
an organisation's stage changes under a transaction-scoped advisory lock makes id
order and commit order the same, so "every change after this cursor" has no gaps.
SQLite runs one writer at a time and needs nothing.
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.models import StageChange

#: The advisory-lock namespace of stage histories (any constant unique to this use).
LOCK_NAMESPACE = 7_301


async def serialise_stage_history(session: AsyncSession, organisation_id: int) -> None:
    """Wait for the organisation's other stage-change writers to commit. Call it after
    the service row is flushed and right before inserting the stage change, so the lock
    is held only for the end of the transaction and taken after every row lock."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:namespace, :organisation)"),
                              {"namespace": LOCK_NAMESPACE, "organisation": organisation_id})


async def changes_after(session: AsyncSession, organisation_id: int, after: int, limit: int
                        ) -> list[StageChange]:
    """The organisation's stage changes after id ``after``, oldest first, at most ``limit``."""
    return list(await session.scalars(
        select(StageChange)
        .where(StageChange.organisation_id == organisation_id, StageChange.id > after)
        .order_by(StageChange.id).limit(limit)))


async def latest_change_id(session: AsyncSession, organisation_id: int) -> int:
    """The organisation's newest stage-change id (0 without any)."""
    newest = await session.scalar(
        select(func.max(StageChange.id)).where(StageChange.organisation_id == organisation_id))
    return int(newest or 0)
