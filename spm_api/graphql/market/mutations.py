"""Market mutations: decode the input, call one domain command, shape the payload."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from spm_api.domain.market import needs, offerings, spaces, subscriptions
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.errors import UserError
from spm_api.graphql.core.ids import node_pk
from spm_api.graphql.core.nodes import as_node
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.unit_of_work import run_mutation
from spm_api.graphql.finance.types import CustomerNode
from spm_api.graphql.market.inputs import (
    CreateMarketSegmentInput,
    CreateMarketSpaceInput,
    CreateOfferingInput,
    NeedLinkInput,
    RecordCustomerNeedInput,
    ServiceLevelInput,
    SetCustomerSegmentInput,
    SetOfferingPriceListInput,
    SubscribeInput,
    UnsubscribeInput,
    UpdateCustomerNeedInput,
    UpdateMarketSegmentInput,
    UpdateMarketSpaceInput,
    UpdateOfferingInput,
)
from spm_api.graphql.market.types import (
    CustomerNeedNode,
    CustomerSubscriptionNode,
    MarketSegmentNode,
    MarketSpaceNode,
    ServiceOfferingNode,
)

ERRORS = "Why it was refused (nothing was written)."


def _pk(raw: strawberry.ID | None, kind: str, field: str) -> int | None:
    return None if raw is None else node_pk(raw, kind, field)


def _levels(levels: list[ServiceLevelInput], field: str) -> list[offerings.LevelInput]:
    return [offerings.LevelInput(
        service_id=node_pk(level.service_id, "Service", f"{field}.{index}.serviceId"),
        target=level.target, kpi_id=_pk(level.kpi_id, "Kpi", f"{field}.{index}.kpiId"),
        name=level.name, unit=level.unit) for index, level in enumerate(levels)]


def _services(ids: list[strawberry.ID]) -> list[int]:
    return [node_pk(raw, "Service", f"serviceIds.{index}") for index, raw in enumerate(ids)]


@strawberry.type(description="The market space as it is now, or why not.")
class MarketSpacePayload:
    market_space: MarketSpaceNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The segment as it is now, or why not.")
class MarketSegmentPayload:
    segment: MarketSegmentNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The customer as it is now, or why not.")
class CustomerSegmentPayload:
    customer: CustomerNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The need as it is now, with what meets it, or why not.")
class CustomerNeedPayload:
    need: CustomerNeedNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The offering as it is now, or why not.")
class OfferingPayload:
    offering: ServiceOfferingNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The subscription as it is now, or why not.")
class SubscriptionPayload:
    subscription: CustomerSubscriptionNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type
class MarketMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Add a market space (portfolio managers, admins).")
    async def create_market_space(self, info: Info[Context, None],
                                  input: CreateMarketSpaceInput) -> MarketSpacePayload:
        row, errors = await run_mutation(
            info, lambda session, actor: spaces.create_market_space(
                session, actor, input.name, input.description))
        return MarketSpacePayload(market_space=as_node(MarketSpaceNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Rename or describe a market space (portfolio "
                                     "managers, admins).")
    async def update_market_space(self, info: Info[Context, None],
                                  input: UpdateMarketSpaceInput) -> MarketSpacePayload:
        row, errors = await run_mutation(
            info, lambda session, actor: spaces.update_market_space(
                session, actor, node_pk(input.market_space_id, "MarketSpace",
                                        "marketSpaceId"),
                name=input.name, description=input.description))
        return MarketSpacePayload(market_space=as_node(MarketSpaceNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Add a segment to a market space (portfolio managers, "
                                     "admins).")
    async def create_market_segment(self, info: Info[Context, None],
                                    input: CreateMarketSegmentInput) -> MarketSegmentPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: spaces.create_market_segment(
                session, actor, node_pk(input.market_space_id, "MarketSpace",
                                        "marketSpaceId"),
                input.name, input.needs_summary))
        return MarketSegmentPayload(segment=as_node(MarketSegmentNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Change a segment (portfolio managers, admins).")
    async def update_market_segment(self, info: Info[Context, None],
                                    input: UpdateMarketSegmentInput) -> MarketSegmentPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: spaces.update_market_segment(
                session, actor, node_pk(input.segment_id, "MarketSegment", "segmentId"),
                name=input.name, needs=input.needs_summary,
                space_id=_pk(input.market_space_id, "MarketSpace", "marketSpaceId")))
        return MarketSegmentPayload(segment=as_node(MarketSegmentNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Put a customer in a segment or in none (finance, "
                                     "portfolio managers, admins).")
    async def set_customer_segment(self, info: Info[Context, None],
                                   input: SetCustomerSegmentInput) -> CustomerSegmentPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: spaces.set_customer_segment(
                session, actor, node_pk(input.customer_id, "Customer", "customerId"),
                _pk(input.segment_id, "MarketSegment", "segmentId")))
        return CustomerSegmentPayload(customer=as_node(CustomerNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Record a need of a segment or of one customer "
                                     "(portfolio managers, admins).")
    async def record_customer_need(self, info: Info[Context, None],
                                   input: RecordCustomerNeedInput) -> CustomerNeedPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: needs.record_need(
                session, actor, input.outcome, input.importance,
                segment_id=_pk(input.segment_id, "MarketSegment", "segmentId"),
                customer_id=_pk(input.customer_id, "Customer", "customerId")))
        return CustomerNeedPayload(need=as_node(CustomerNeedNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Change a need (portfolio managers, admins).")
    async def update_customer_need(self, info: Info[Context, None],
                                   input: UpdateCustomerNeedInput) -> CustomerNeedPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: needs.update_need(
                session, actor, node_pk(input.need_id, "CustomerNeed", "needId"),
                outcome=input.outcome, importance=input.importance))
        return CustomerNeedPayload(need=as_node(CustomerNeedNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Record that a service or an offering meets a need; "
                                     "linking again changes nothing (portfolio managers, "
                                     "admins).")
    async def link_need(self, info: Info[Context, None], input: NeedLinkInput
                        ) -> CustomerNeedPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: needs.link_need(
                session, actor, node_pk(input.need_id, "CustomerNeed", "needId"), **_link(input)))
        return CustomerNeedPayload(need=as_node(CustomerNeedNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Remove a service or an offering from what meets a "
                                     "need (portfolio managers, admins).")
    async def unlink_need(self, info: Info[Context, None], input: NeedLinkInput
                          ) -> CustomerNeedPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: needs.unlink_need(
                session, actor, node_pk(input.need_id, "CustomerNeed", "needId"), **_link(input)))
        return CustomerNeedPayload(need=as_node(CustomerNeedNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Package services for a segment, with service levels "
                                     "(portfolio managers, admins).")
    async def create_offering(self, info: Info[Context, None], input: CreateOfferingInput
                              ) -> OfferingPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: offerings.create_offering(
                session, actor, input.name,
                node_pk(input.segment_id, "MarketSegment", "segmentId"),
                _services(input.service_ids),
                _levels(input.service_levels, "serviceLevels"), input.description))
        return OfferingPayload(offering=as_node(ServiceOfferingNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Change an offering (portfolio managers, admins).")
    async def update_offering(self, info: Info[Context, None], input: UpdateOfferingInput
                              ) -> OfferingPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: offerings.update_offering(
                session, actor, node_pk(input.offering_id, "ServiceOffering", "offeringId"),
                name=input.name, description=input.description,
                segment_id=_pk(input.segment_id, "MarketSegment", "segmentId"),
                service_ids=None if input.service_ids is None
                else _services(input.service_ids),
                levels=None if input.service_levels is None
                else _levels(input.service_levels, "serviceLevels")))
        return OfferingPayload(offering=as_node(ServiceOfferingNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Price an offering with a charging model, checked "
                                     "like a charging policy (finance, portfolio managers, "
                                     "admins).")
    async def set_offering_price_list(self, info: Info[Context, None],
                                      input: SetOfferingPriceListInput) -> OfferingPayload:
        parameters: Any = input.parameters  # a non-object is refused by the domain
        row, errors = await run_mutation(
            info, lambda session, actor: offerings.set_price_list(
                session, actor, info.context.plugins,
                node_pk(input.offering_id, "ServiceOffering", "offeringId"),
                input.model, parameters))
        return OfferingPayload(offering=as_node(ServiceOfferingNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Subscribe a customer to an offering (finance, "
                                     "portfolio managers, admins).")
    async def subscribe(self, info: Info[Context, None], input: SubscribeInput
                        ) -> SubscriptionPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: subscriptions.subscribe(
                session, actor, node_pk(input.customer_id, "Customer", "customerId"),
                node_pk(input.offering_id, "ServiceOffering", "offeringId"),
                input.start_period, input.end_period))
        return SubscriptionPayload(subscription=as_node(CustomerSubscriptionNode, row),
                                   errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="End a subscription with its last month (finance, "
                                     "portfolio managers, admins).")
    async def unsubscribe(self, info: Info[Context, None], input: UnsubscribeInput
                          ) -> SubscriptionPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: subscriptions.unsubscribe(
                session, actor,
                node_pk(input.subscription_id, "CustomerSubscription", "subscriptionId"),
                input.end_period))
        return SubscriptionPayload(subscription=as_node(CustomerSubscriptionNode, row),
                                   errors=errors)


def _link(input: NeedLinkInput) -> dict[str, int | None]:
    return {"service_id": _pk(input.service_id, "Service", "serviceId"),
            "offering_id": _pk(input.offering_id, "ServiceOffering", "offeringId")}
