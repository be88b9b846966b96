"""Inputs for market spaces, segments, needs, offerings, price lists and subscriptions."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON


@strawberry.input(description="A new market space.")
class CreateMarketSpaceInput:
    name: str
    description: str = ""


@strawberry.input(description="Change a market space; fields left out stay as they are.")
class UpdateMarketSpaceInput:
    market_space_id: strawberry.ID
    name: str | None = None
    description: str | None = None


@strawberry.input(description="A new segment of a market space.")
class CreateMarketSegmentInput:
    market_space_id: strawberry.ID
    name: str
    needs_summary: str = ""


@strawberry.input(description="Change a segment; fields left out stay as they are.")
class UpdateMarketSegmentInput:
    segment_id: strawberry.ID
    name: str | None = None
    needs_summary: str | None = None
    market_space_id: strawberry.ID | None = strawberry.field(
        default=None, description="Move it to another market space.")


@strawberry.input(description="Put a customer in a segment, or in none.")
class SetCustomerSegmentInput:
    customer_id: strawberry.ID
    segment_id: strawberry.ID | None = strawberry.field(
        default=None, description="Null takes the customer out of its segment.")


@strawberry.input(description="A need of a segment or of one customer: give exactly one "
                              "of segmentId and customerId.")
class RecordCustomerNeedInput:
    outcome: str = strawberry.field(description="The outcome wanted, in the customer's words.")
    importance: int = strawberry.field(description="1 (nice to have) to 5 (critical).")
    segment_id: strawberry.ID | None = None
    customer_id: strawberry.ID | None = None


@strawberry.input(description="Change a need; fields left out stay as they are.")
class UpdateCustomerNeedInput:
    need_id: strawberry.ID
    outcome: str | None = None
    importance: int | None = None


@strawberry.input(description="A need and a service or an offering (exactly one) that "
                              "meets it.")
class NeedLinkInput:
    need_id: strawberry.ID
    service_id: strawberry.ID | None = None
    offering_id: strawberry.ID | None = None


@strawberry.input(description="A service level: one of the service's KPIs (kpiId, or a "
                              "name that is one of its KPIs' names), or a target named "
                              "freely with a unit.")
class ServiceLevelInput:
    service_id: strawberry.ID = strawberry.field(description="One of the offering's services.")
    kpi_id: strawberry.ID | None = None
    name: str | None = None
    target: str | None = strawberry.field(
        default=None, description="A decimal string; left out, a KPI's own target.")
    unit: str | None = strawberry.field(default=None,
                                        description="Required without a KPI.")


@strawberry.input(description="A new offering: services packaged for a segment.")
class CreateOfferingInput:
    name: str
    segment_id: strawberry.ID
    service_ids: list[strawberry.ID] = strawberry.field(description="At least one.")
    service_levels: list[ServiceLevelInput] = strawberry.field(default_factory=list)
    description: str = ""


@strawberry.input(description="Change an offering; fields left out stay as they are. "
                              "serviceIds and serviceLevels replace the old ones.")
class UpdateOfferingInput:
    offering_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    segment_id: strawberry.ID | None = None
    service_ids: list[strawberry.ID] | None = None
    service_levels: list[ServiceLevelInput] | None = None


@strawberry.input(description="Price an offering with a charging model, or remove its "
                              "price list (model null).")
class SetOfferingPriceListInput:
    offering_id: strawberry.ID
    model: str | None = strawberry.field(description="A charging model, as chargingModels "
                                                     "lists; null removes the price list.")
    parameters: JSON | None = strawberry.field(
        default=None, description="Checked by the model; omitted or null means none.")


@strawberry.input(description="A customer subscribing to an offering.")
class SubscribeInput:
    customer_id: strawberry.ID
    offering_id: strawberry.ID
    start_period: str = strawberry.field(description="The first month, YYYY-MM.")
    end_period: str | None = strawberry.field(
        default=None, description="The last month; null while open-ended.")


@strawberry.input(description="End a subscription.")
class UnsubscribeInput:
    subscription_id: strawberry.ID
    end_period: str = strawberry.field(description="The last month it applies to, YYYY-MM.")
