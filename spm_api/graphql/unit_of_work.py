"""One mutation, one transaction: commit on success, roll back on any failure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from strawberry.types import Info

from spm_api.domain import events
from spm_api.domain.actor import Actor
from spm_api.graphql.context import Context
from spm_api.graphql.payloads import UserError
from spm_api.realtime.announce import announce_committed
from spm_api.vocabulary.errors import DomainError, ErrorCode, Problem

T = TypeVar("T")

CONCURRENT_CHANGE = Problem(
    ErrorCode.CONFLICT, "someone else changed this at the same time; reload and try again"
)


async def run_mutation(
    info: Info[Context, None], action: Callable[[AsyncSession, Actor], Awaitable[T]]
) -> tuple[T | None, list[UserError]]:
    """Run ``action`` as the request's actor and commit once; expected failures become
    UserErrors with nothing written, unexpected ones propagate (and are masked)."""
    context = info.context
    assert context.actor is not None, "root fields are guarded by IsAuthenticated"
    session = context.session
    async with context.lock:
        try:
            result = await action(session, context.actor)
            await session.commit()
        except DomainError as error:
            await _roll_back(session)
            return None, [UserError.from_problem(problem) for problem in error.problems]
        except (StaleDataError, IntegrityError):
            await _roll_back(session)
            return None, [UserError.from_problem(CONCURRENT_CHANGE)]
        except BaseException:
            await _roll_back(session)
            raise
        committed = events.take(session)
    context.forget_loaded()
    await announce_committed(context.bus, context.plugins, committed)
    return result, []


async def _roll_back(session: AsyncSession) -> None:
    events.discard(session)
    await session.rollback()
