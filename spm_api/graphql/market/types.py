"""Market spaces, segments, needs, offerings, their service levels and price lists, and
subscriptions as GraphQL types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from spm_api.domain.market import offerings
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.money import books_currency
from spm_api.graphql.core.nodes import LoadedNode, present
from spm_api.graphql.finance.types import CustomerNode
from spm_api.graphql.portfolio.types import ServiceNode
from spm_api.graphql.stewardship.types import KpiNode


@strawberry.type(name="MarketSpace", description="A set of opportunities the "
                                                 "organisation serves, e.g. \"workplace IT\".")
class MarketSpaceNode(LoadedNode):
    loader_name = "market_space"

    id: relay.NodeID[int]
    name: str
    description: str

    @strawberry.field(description="Its segments, in the order created.")
    async def segments(self, info: Info[Context, None]) -> list[MarketSegmentNode]:
        return await info.context.loaders.segments_of_space.load(self.id)


@strawberry.type(name="MarketSegment", description="A group of customers in a market "
                                                   "space, with the needs they share.")
class MarketSegmentNode(LoadedNode):
    loader_name = "market_segment"

    id: relay.NodeID[int]
    name: str
    market_space_id: strawberry.Private[int]

    @strawberry.field(description="Free text about the segment; the needs recorded one "
                                  "by one are `needs`.")
    def needs_summary(self, root: strawberry.Parent[Any]) -> str:
        return str(root.needs)

    @strawberry.field
    async def market_space(self, info: Info[Context, None]) -> MarketSpaceNode:
        return present(await info.context.loaders.market_space.load(self.market_space_id))

    @strawberry.field(description="The customers in the segment, in the order created.")
    async def customers(self, info: Info[Context, None]) -> list[CustomerNode]:
        return await info.context.loaders.customers_of_segment.load(self.id)

    @strawberry.field(description="The segment's needs, in the order recorded.")
    async def needs(self, info: Info[Context, None]) -> list[CustomerNeedNode]:
        return await info.context.loaders.needs_of_segment.load(self.id)

    @strawberry.field(description="The offerings made for the segment.")
    async def offerings(self, info: Info[Context, None]) -> list[ServiceOfferingNode]:
        return await info.context.loaders.offerings_of_segment.load(self.id)


@strawberry.type(name="CustomerNeed", description="An outcome a segment or one customer "
                                                  "wants, and how much it matters.")
class CustomerNeedNode(LoadedNode):
    loader_name = "customer_need"

    id: relay.NodeID[int]
    outcome: str
    importance: int = strawberry.field(description="1 (nice to have) to 5 (critical).")
    recorded_at: datetime
    segment_id: strawberry.Private[int | None]
    customer_id: strawberry.Private[int | None]

    @strawberry.field(description="The segment with the need; null when one customer has it.")
    async def segment(self, info: Info[Context, None]) -> MarketSegmentNode | None:
        return (None if self.segment_id is None
                else await info.context.loaders.market_segment.load(self.segment_id))

    @strawberry.field(description="The one customer with the need; null for a segment's.")
    async def customer(self, info: Info[Context, None]) -> CustomerNode | None:
        return (None if self.customer_id is None
                else await info.context.loaders.customer.load(self.customer_id))

    @strawberry.field(description="Services linked as meeting the need.")
    async def services(self, info: Info[Context, None]) -> list[ServiceNode]:
        return await info.context.loaders.services_of_need.load(self.id)

    @strawberry.field(description="Offerings linked as meeting the need.")
    async def offerings(self, info: Info[Context, None]) -> list[ServiceOfferingNode]:
        return await info.context.loaders.offerings_of_need.load(self.id)


@strawberry.type(description="A target an offering promises for one of its services.")
class ServiceLevel:
    name: str = strawberry.field(description="The KPI's name where it is one.")
    target: Decimal
    unit: str
    service_id: strawberry.Private[int]
    kpi_id: strawberry.Private[int | None]

    @strawberry.field
    async def service(self, info: Info[Context, None]) -> ServiceNode:
        return present(await info.context.loaders.service.load(self.service_id))

    @strawberry.field(description="The service's KPI the level is measured by; null for "
                                  "a target named freely.")
    async def kpi(self, info: Info[Context, None]) -> KpiNode | None:
        return (None if self.kpi_id is None
                else await info.context.loaders.kpi.load(self.kpi_id))


@strawberry.type(description="One price of a price list.")
class PriceLine:
    name: str = strawberry.field(description="The charging model's parameter, e.g. "
                                             "unit_price.")
    amount: Decimal = strawberry.field(description="Exact, as the price list holds it.")
    currency: str | None = strawberry.field(
        description="The organisation's currency; null for a percentage.")
    unit: str = strawberry.field(description="What the amount is for: per \"month\", per "
                                             "usage unit (e.g. \"GB\"), or \"percent\".")
    up_to: Decimal | None = strawberry.field(
        description="For a tier of a tiered price: the quantity (in all, counted from "
                    "zero) its price applies up to; null for the last tier and for "
                    "prices that are no tier.")


@strawberry.type(description="How subscribers to an offering are charged for its "
                             "services: a charging model and its parameters.")
class PriceList:
    model: str
    parameters: JSON = strawberry.field(description="As the model normalised them.")
    prices: list[PriceLine]


@strawberry.type(name="ServiceOffering", description="One or more services packaged for "
                                                     "a segment, with service levels and "
                                                     "a price list.")
class ServiceOfferingNode(LoadedNode):
    loader_name = "service_offering"

    id: relay.NodeID[int]
    name: str
    description: str
    created_at: datetime
    segment_id: strawberry.Private[int]
    charging_model: strawberry.Private[str | None]
    charging_parameters: strawberry.Private[dict[str, Any] | None]

    @strawberry.field
    async def segment(self, info: Info[Context, None]) -> MarketSegmentNode:
        return present(await info.context.loaders.market_segment.load(self.segment_id))

    @strawberry.field(description="The services it packages, in the order given.")
    async def services(self, info: Info[Context, None]) -> list[ServiceNode]:
        return await info.context.loaders.services_of_offering.load(self.id)

    @strawberry.field(description="Its service levels, in the order given.")
    async def service_levels(self, info: Info[Context, None]) -> list[ServiceLevel]:
        return await info.context.loaders.levels_of_offering.load(self.id)

    @strawberry.field(description="Null until finance prices it; subscribers are then "
                                  "charged by each service's own policy.")
    async def price_list(self, info: Info[Context, None]) -> PriceList | None:
        if self.charging_model is None:
            return None
        parameters = self.charging_parameters or {}
        lines = offerings.price_lines(self.charging_model, parameters,
                                      await books_currency(info))
        return PriceList(model=self.charging_model, parameters=cast("JSON", parameters),
                         prices=[PriceLine(name=line.name, amount=line.amount,
                                           currency=line.currency, unit=line.unit,
                                           up_to=line.up_to)
                                 for line in lines])

    @strawberry.field(description="Who subscribes (or subscribed), in the order subscribed.")
    async def subscriptions(self, info: Info[Context, None]
                            ) -> list[CustomerSubscriptionNode]:
        return await info.context.loaders.subscriptions_of_offering.load(self.id)


@strawberry.type(name="CustomerSubscription",
                 description="A customer taking an offering, months inclusive.")
class CustomerSubscriptionNode(LoadedNode):
    loader_name = "subscription"

    id: relay.NodeID[int]
    start_period: str = strawberry.field(description="The first month, YYYY-MM.")
    end_period: str | None = strawberry.field(
        description="The last month; null while open-ended.")
    created_at: datetime
    customer_id: strawberry.Private[int]
    offering_id: strawberry.Private[int]

    @strawberry.field
    async def customer(self, info: Info[Context, None]) -> CustomerNode:
        return present(await info.context.loaders.customer.load(self.customer_id))

    @strawberry.field
    async def offering(self, info: Info[Context, None]) -> ServiceOfferingNode:
        return present(await info.context.loaders.service_offering.load(self.offering_id))
