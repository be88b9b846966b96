"""The API token as its owner and admins see it: metadata, never the secret."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry import relay
from strawberry.types import Info

from spm_api.domain.access import tokens
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import TokenStatus
from spm_api.graphql.core.ids import row_id
from spm_api.graphql.core.nodes import LoadedNode, present
from spm_api.graphql.core.reading import read
from spm_api.graphql.portfolio.types import PersonNode


@strawberry.type(name="ApiToken", description="An API token: its name, who it is for and "
                 "whether it authenticates. The secret is shown once, when the token is "
                 "created or rotated, and never again.")
class ApiTokenNode(LoadedNode):
    loader_name = "api_token"

    id: relay.NodeID[int]
    created_at: datetime = strawberry.field(description="When the token was created.")
    expires_at: datetime | None = strawberry.field(
        description="After this instant the token is refused; null: it does not expire.")
    revoked_at: datetime | None = strawberry.field(
        description="When the token was revoked; null while it is not.")
    rotated_at: datetime | None = strawberry.field(
        description="When the token last got a new secret; null if never.")
    person_id: strawberry.Private[int]
    label: strawberry.Private[str]

    @strawberry.field(description="What the token is for, as its creator named it.")
    def name(self) -> str:
        return self.label

    @strawberry.field(description="Whether the token authenticates now (a deactivated "
                                  "person's tokens are refused whatever this says).")
    def status(self) -> TokenStatus:
        return tokens.status_of(cast("Any", self))  # the row itself

    @strawberry.field(description="The person the token acts as.")
    async def person(self, info: Info[Context, None]) -> PersonNode:
        return present(await info.context.loaders.person.load(self.person_id))

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        """Your own tokens, and anyone's in your organisation for admins; null else."""
        ids = [row_id(node_id) or -1 for node_id in node_ids]
        return await read(info, lambda session, actor: tokens.tokens_by_id(session, actor, ids))
