"""Reading the organisation and its settings."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from spm_api.graphql.core.context import Context
from spm_api.graphql.core.nodes import present
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.portfolio.types import OrganisationNode


@strawberry.type
class OrganisationQuery:
    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Your organisation and its settings: the currency its "
                                  "books are kept in and the month its fiscal year starts.")
    async def organisation(self, info: Info[Context, None]) -> OrganisationNode:
        assert info.context.actor is not None
        return present(await info.context.loaders.organisation.load(
            info.context.actor.organisation_id))
