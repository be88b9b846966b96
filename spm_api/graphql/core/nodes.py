"""Relay nodes backed by ORM rows and fetched through the request's DataLoaders.

A domain function answers rows; the GraphQL types they are shown as declare the rows'
attributes as fields and accept the rows themselves (``is_type_of``), so nothing is
copied. ``as_node``/``as_nodes`` are the one typed way from a domain result to the
GraphQL type a payload or field declares, and ``present`` types a row that a foreign
key guarantees. None of them changes the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, TypeVar, cast

from strawberry import relay
from strawberry.types import Info

from spm_api.domain import batches
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import row_id


class LoadedNode(relay.Node):
    """A Relay node backed by an ORM model and fetched through a DataLoader by id."""

    loader_name: ClassVar[str]

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, cls) or batches.is_row_of(obj, cls.loader_name)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        ids = [row_id(node_id) or -1 for node_id in node_ids]
        found = await getattr(info.context.loaders, cls.loader_name).load_many(ids)
        if required and any(node is None for node in found):
            raise ValueError(f"no such {cls.__name__}")
        return list(found)


N = TypeVar("N")


def as_node(node_type: type[N], row: object | None) -> N | None:
    """``row`` as the GraphQL type ``node_type`` it is shown as (None stays None)."""
    return cast("N | None", row)


def as_nodes(node_type: type[N], rows: Sequence[object]) -> list[N]:
    """Each of ``rows`` as the GraphQL type ``node_type``."""
    return cast("list[N]", list(rows))


def present(found: N | None) -> N:
    """A row a foreign key guarantees, typed as present for a non-null field."""
    return cast("N", found)
