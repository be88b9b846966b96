"""Root query fields."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.relay.types import GlobalIDValueError
from strawberry.types import Info

from spm_api.domain import reads
from spm_api.graphql.context import Context
from spm_api.graphql.inputs import ServiceFilter, ServiceOrder
from spm_api.graphql.pagination import QuerySource, ServiceConnection
from spm_api.graphql.permissions import AUTHENTICATED
from spm_api.graphql.portfolio import Portfolio
from spm_api.graphql.types import PersonNode, ServiceNode


@strawberry.type
class Query:
    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Any object by its global id; null when not visible to you.")
    async def node(self, info: Info[Context, None], id: relay.GlobalID) -> relay.Node | None:
        try:
            found: relay.Node | None = await id.resolve_node(info, required=False)
        except GlobalIDValueError:
            return None
        return found

    @strawberry.field(permission_classes=AUTHENTICATED, description="The person the token is for.")
    async def viewer(self, info: Info[Context, None]) -> PersonNode:
        assert info.context.actor is not None
        return await info.context.loaders.person.load(info.context.actor.person_id)  # type: ignore[return-value]

    @relay.connection(ServiceConnection, permission_classes=AUTHENTICATED)
    def services(
        self,
        info: Info[Context, None],
        filter: ServiceFilter | None = None,
        order_by: ServiceOrder | None = None,
    ) -> QuerySource[ServiceNode]:
        assert info.context.actor is not None
        query = reads.services_query(
            info.context.actor,
            filter.to_domain() if filter else None,
            order_by.to_domain() if order_by else None,
        )
        return QuerySource(info.context, query)  # type: ignore[arg-type]

    @strawberry.field(permission_classes=AUTHENTICATED)
    async def service(self, info: Info[Context, None], id: relay.GlobalID) -> ServiceNode | None:
        if id.type_name != "Service" or not id.node_id.isdigit():
            return None
        return await info.context.loaders.service.load(int(id.node_id))  # type: ignore[return-value]

    @strawberry.field(permission_classes=AUTHENTICATED)
    async def portfolio(self, info: Info[Context, None]) -> Portfolio:
        assert info.context.actor is not None
        async with info.context.lock:
            counts = await reads.portfolio_counts(info.context.session, info.context.actor)
        return Portfolio.from_counts(counts)
