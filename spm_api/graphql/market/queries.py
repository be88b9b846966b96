"""Market root query fields: spaces, segments, needs, offerings and the catalogue."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from spm_api.domain.market import needs, offerings, spaces
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.nodes import as_nodes
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.reading import read
from spm_api.graphql.market.types import (
    CustomerNeedNode,
    MarketSegmentNode,
    MarketSpaceNode,
    ServiceOfferingNode,
)


@strawberry.type
class MarketQuery:
    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Your organisation's market spaces, by name.")
    async def market_spaces(self, info: Info[Context, None]) -> list[MarketSpaceNode]:
        return as_nodes(MarketSpaceNode, await read(info, spaces.market_spaces))

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Every segment of every market space, by name.")
    async def market_segments(self, info: Info[Context, None]) -> list[MarketSegmentNode]:
        return as_nodes(MarketSegmentNode, await read(info, spaces.market_segments))

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Every customer need, most important first.")
    async def customer_needs(self, info: Info[Context, None]) -> list[CustomerNeedNode]:
        return as_nodes(CustomerNeedNode, await read(info, needs.needs))

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Needs no CHARTERED or LIVE service meets, directly or "
                                  "through an offering linked to the need; most "
                                  "important first.")
    async def unmet_needs(self, info: Info[Context, None]) -> list[CustomerNeedNode]:
        return as_nodes(CustomerNeedNode, await read(info, needs.unmet_needs))

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Every service offering, by name.")
    async def offerings(self, info: Info[Context, None]) -> list[ServiceOfferingNode]:
        return as_nodes(ServiceOfferingNode, await read(info, offerings.offerings))

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="The published catalogue: offerings whose services are "
                                  "all LIVE, by name, with their service levels and "
                                  "prices.")
    async def catalogue(self, info: Info[Context, None]) -> list[ServiceOfferingNode]:
        return as_nodes(ServiceOfferingNode, await read(info, offerings.catalogue))
