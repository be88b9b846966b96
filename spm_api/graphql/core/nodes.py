"""Relay nodes backed by ORM rows and fetched through the request's DataLoaders."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from strawberry import relay
from strawberry.types import Info

from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import row_id


class LoadedNode(relay.Node):
    """A Relay node backed by an ORM model and fetched through a DataLoader by id."""

    model: ClassVar[type[Any]]
    loader_name: ClassVar[str]

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, (cls, cls.model))

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        ids = [row_id(node_id) or -1 for node_id in node_ids]
        found = await getattr(info.context.loaders, cls.loader_name).load_many(ids)
        if required and any(node is None for node in found):
            raise ValueError(f"no such {cls.__name__}")
        return list(found)
