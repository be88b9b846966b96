"""One mutation, one transaction: commit on success, roll back on any failure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from strawberry.types import Info

from spm_api.domain import session as unit
from spm_api.domain.actor import Actor
from spm_api.domain.session import Session
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.errors import UserError
from spm_api.realtime.announce import announce_committed
from spm_api.vocabulary.errors import DomainError

T = TypeVar("T")


async def run_mutation(
    info: Info[Context, None], action: Callable[[Session, Actor], Awaitable[T]]
) -> tuple[T | None, list[UserError]]:
    """Run ``action`` as the request's actor and commit once; expected failures become
    UserErrors with nothing written, unexpected ones propagate (and are masked)."""
    context = info.context
    actor = context.actor
    assert actor is not None, "root fields are guarded by IsAuthenticated"
    session = context.session
    async with context.lock:
        try:
            result, committed = await unit.commit(session, lambda: action(session, actor))
        except DomainError as error:
            return None, [UserError.from_problem(problem) for problem in error.problems]
    context.forget_loaded()
    await context.note_written()
    await announce_committed(context.bus, context.plugins, committed)
    return result, []
