"""The unit-of-work handle the domain works on, and its one commit.

Callers above the domain (GraphQL, the CLI) hold a ``Session`` and pass it through;
they never build statements on it. ``commit`` is where the database's own refusals
(a stale version, a uniqueness race) become the domain's ``CONFLICT``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeAlias, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from spm_api.domain import events
from spm_api.vocabulary.errors import DomainError, ErrorCode, Problem

Session: TypeAlias = AsyncSession
SessionFactory: TypeAlias = async_sessionmaker[AsyncSession]

T = TypeVar("T")

CONCURRENT_CHANGE = Problem(
    ErrorCode.CONFLICT, "someone else changed this at the same time; reload and try again"
)


async def commit(session: Session, action: Callable[[], Awaitable[T]]
                 ) -> tuple[T, list[events.DomainEvent]]:
    """Run ``action`` and commit once, returning its result and the events it recorded.
    On any failure nothing is written and the events are dropped; a concurrent change
    the database noticed is raised as a ``DomainError`` (``CONFLICT``)."""
    try:
        result = await action()
        await session.commit()
    except (StaleDataError, IntegrityError) as error:
        await _roll_back(session)
        raise DomainError(CONCURRENT_CHANGE) from error
    except BaseException:
        await _roll_back(session)
        raise
    return result, events.take(session)


async def _roll_back(session: Session) -> None:
    events.discard(session)
    await session.rollback()
