"""Queries that call the domain: one session turn at a time, and refusals reported as
GraphQL errors carrying the domain's code and field (queries have no payload for
``UserError``s)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from graphql import GraphQLError
from strawberry.types import Info

from spm_api.domain.actor import Actor
from spm_api.domain.session import Session
from spm_api.graphql.core.context import Context
from spm_api.vocabulary.errors import DomainError

T = TypeVar("T")


def coded_error(error: DomainError) -> GraphQLError:
    problem = error.problems[0]
    return GraphQLError(problem.message,
                        extensions={"code": problem.code.value, "field": problem.field})


async def read(info: Info[Context, None],
               query: Callable[[Session, Actor], Awaitable[T]]) -> T:
    """Run a domain read on the request's session; refusals become coded errors."""
    actor = info.context.actor
    assert actor is not None
    try:
        async with info.context.lock:
            return await query(info.context.session, actor)
    except DomainError as error:
        raise coded_error(error) from error
