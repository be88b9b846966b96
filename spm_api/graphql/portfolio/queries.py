"""Root query fields."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.types import Info

from spm_api.domain import reads
from spm_api.domain.stewardship import health
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import database_id, names_an_object_node, parse_global_id
from spm_api.graphql.core.nodes import present
from spm_api.graphql.core.pagination import CountedConnection, QuerySource
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.reading import read
from spm_api.graphql.portfolio.counts import Portfolio
from spm_api.graphql.portfolio.inputs import ServiceFilter, ServiceOrder
from spm_api.graphql.portfolio.types import PersonNode, ServiceNode


@strawberry.type(name="ServiceConnection")
class ServiceConnection(CountedConnection[ServiceNode]):
    """Services, a page at a time."""


@strawberry.type
class PortfolioQuery:
    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Any object by its global id; null when not visible to you.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> relay.Node | None:
        global_id = parse_global_id(id)
        if global_id is None or not names_an_object_node(global_id, info):
            return None
        found: relay.Node | None = await global_id.resolve_node(info, required=False)
        return found

    @strawberry.field(permission_classes=AUTHENTICATED, description="The person the token is for.")
    async def viewer(self, info: Info[Context, None]) -> PersonNode:
        assert info.context.actor is not None
        return present(await info.context.loaders.person.load(info.context.actor.person_id))

    @relay.connection(ServiceConnection, permission_classes=AUTHENTICATED)
    async def services(
        self,
        info: Info[Context, None],
        filter: ServiceFilter | None = None,
        order_by: ServiceOrder | None = None,
    ) -> QuerySource[ServiceNode]:
        assert info.context.actor is not None
        where = filter.to_domain() if filter else None
        if where is not None and where.healths:
            plugins, chosen = info.context.plugins, where
            where = await read(info, lambda session, actor: health.narrowed(
                session, plugins, actor, chosen))
        return QuerySource(info.context, reads.services(
            info.context.actor, where, order_by.to_domain() if order_by else None))

    @strawberry.field(permission_classes=AUTHENTICATED)
    async def service(self, info: Info[Context, None], id: strawberry.ID) -> ServiceNode | None:
        pk = database_id(id, "Service")
        if pk is None:
            return None
        return await info.context.loaders.service.load(pk)

    @strawberry.field(permission_classes=AUTHENTICATED)
    async def portfolio(self, info: Info[Context, None]) -> Portfolio:
        assert info.context.actor is not None
        async with info.context.lock:
            counts = await reads.portfolio_counts(info.context.session, info.context.actor)
        return Portfolio.from_counts(counts)
