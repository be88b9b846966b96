"""The stakeholders of a service and their roles."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.types import Info

from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import StakeholderRole
from spm_api.graphql.core.nodes import LoadedNode, present
from spm_api.graphql.portfolio.types import PersonNode


@strawberry.type(name="Stakeholder",
                 description="A person of the organisation registered with a role on a "
                             "service: whom its reports go to.")
class StakeholderNode(LoadedNode):
    loader_name = "stakeholder"

    id: relay.NodeID[int]
    role: StakeholderRole = strawberry.field(description="Their stake in the service.")
    added_at: datetime = strawberry.field(description="When they were registered.")
    person_id: strawberry.Private[int]
    service_id: strawberry.Private[int]
    added_by_id: strawberry.Private[int]

    @strawberry.field(description="The person registered.")
    async def person(self, info: Info[Context, None]) -> PersonNode:
        return present(await info.context.loaders.person.load(self.person_id))

    @strawberry.field(description="Who registered them.")
    async def added_by(self, info: Info[Context, None]) -> PersonNode | None:
        return await info.context.loaders.person.load(self.added_by_id)
