"""Relay connections whose slices are fetched with SQL OFFSET/LIMIT.

Strawberry's ``ListConnection`` does the cursor and page-info work; it slices
the node source it is given, and ``QuerySource`` turns that slice into one fetch of the
domain's ``Listing``.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar

import strawberry
from graphql.error import GraphQLError
from strawberry import relay
from strawberry.types import Info

from spm_api.domain import reads
from spm_api.graphql.core.context import Context

T = TypeVar("T")


class QuerySource(Generic[T]):
    """An async-iterable view of a domain listing that fetches only the slice asked for.
    ``T`` is the node type the listing's rows stand for."""

    def __init__(self, context: Context, listing: reads.Pages[Any]) -> None:
        self.context = context
        self.listing = listing

    def __getitem__(self, window: slice) -> AsyncIterator[T]:
        start = window.start or 0
        stop = window.stop
        limit = None if stop is None or stop >= sys.maxsize else max(stop - start, 0)
        return self._fetch(start, limit)

    def __aiter__(self) -> AsyncIterator[T]:
        return self._fetch(0, None)

    async def _fetch(self, offset: int, limit: int | None) -> AsyncIterator[T]:
        async with self.context.lock:
            rows = await self.listing.fetch(self.context.session, offset, limit)
        for row in rows:
            yield row

    async def count(self) -> int:
        async with self.context.lock:
            return await self.listing.count(self.context.session)


@strawberry.type
class CountedConnection(relay.ListConnection[relay.NodeType]):
    """A Relay connection over a ``QuerySource`` that also counts every match."""

    source: strawberry.Private[QuerySource[Any] | None] = None

    @strawberry.field(description="How many match, across all pages.")
    async def total_count(self) -> int:
        assert self.source is not None
        return await self.source.count()

    @classmethod
    def resolve_connection(  # type: ignore[override]
        cls, nodes: QuerySource[Any], *, info: Info[Context, None], **kwargs: Any
    ) -> Any:
        try:
            resolved = super().resolve_connection(nodes, info=info, **kwargs)
        except (ValueError, TypeError) as error:  # page size over the cap, foreign cursor
            raise GraphQLError(str(error), extensions={"code": "BAD_USER_INPUT"}) from error
        # A QuerySource is async-iterable, so Strawberry hands back an awaitable.
        assert inspect.isawaitable(resolved)

        async def with_source() -> Any:
            connection = await resolved
            connection.source = nodes
            return connection

        return with_source()
