"""Finance object types: customers, budget lines, cost entries, usage, charging policies,
statements and charging runs. Amounts are ``Money`` in the organisation's currency."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from spm_api.domain import rows
from spm_api.domain.finance.charging import ChargingRun, RunLine
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import CustomerKind
from spm_api.graphql.core.money import Money, money_in, money_of
from spm_api.graphql.core.nodes import LoadedNode, present
from spm_api.graphql.portfolio.types import ServiceNode, service_of

if TYPE_CHECKING:
    from spm_api.graphql.market.types import (
        CustomerNeedNode,
        CustomerSubscriptionNode,
        MarketSegmentNode,
    )

MARKET_TYPES = "spm_api.graphql.market.types"


async def _service(info: Info[Context, None], service_id: int) -> ServiceNode:
    found = await service_of(info, service_id)
    assert found is not None, "charges and costs belong to services of the organisation"
    return found


async def _customer(info: Info[Context, None], customer_id: int) -> CustomerNode:
    return present(await info.context.loaders.customer.load(customer_id))


@strawberry.type(name="Customer", description="A department or external customer that "
                                              "uses services and is charged for them.")
class CustomerNode(LoadedNode):
    loader_name = "customer"

    id: relay.NodeID[int]
    name: str
    kind: CustomerKind
    market_segment_id: strawberry.Private[int | None]

    @strawberry.field(description="The market segment it belongs to; null for none.")
    async def segment(self, info: Info[Context, None]
                      ) -> Annotated[MarketSegmentNode, strawberry.lazy(MARKET_TYPES)] | None:
        return (None if self.market_segment_id is None
                else await info.context.loaders.market_segment.load(self.market_segment_id))

    @strawberry.field(description="Needs recorded for this customer alone.")
    async def needs(self, info: Info[Context, None]
                    ) -> list[Annotated[CustomerNeedNode, strawberry.lazy(MARKET_TYPES)]]:
        return await info.context.loaders.needs_of_customer.load(self.id)

    @strawberry.field(description="Its subscriptions to offerings, in the order subscribed.")
    async def subscriptions(self, info: Info[Context, None]) -> list[
            Annotated[CustomerSubscriptionNode, strawberry.lazy(MARKET_TYPES)]]:
        return await info.context.loaders.subscriptions_of_customer.load(self.id)


@strawberry.type
class ServiceAmountNode(LoadedNode):
    """A row holding an amount of the organisation's money for one service."""

    service_id: strawberry.Private[int]

    @strawberry.field
    async def amount(self, info: Info[Context, None], root: strawberry.Parent[Any]) -> Money:
        found = await money_of(info, root.amount)
        assert found is not None
        return found

    @strawberry.field
    async def service(self, info: Info[Context, None]) -> ServiceNode:
        return await _service(info, self.service_id)


@strawberry.type(name="BudgetLine", description="Planned cost of a service in one month "
                                                "and cost category.")
class BudgetLineNode(ServiceAmountNode):
    loader_name = "budget_line"

    id: relay.NodeID[int]
    period: str = strawberry.field(description="The month, YYYY-MM.")
    category: str
    updated_at: datetime
    service_id: strawberry.Private[int]


@strawberry.type(name="CostEntry", description="Actual cost booked against a service.")
class CostEntryNode(ServiceAmountNode):
    loader_name = "cost_entry"

    id: relay.NodeID[int]
    booked_on: date
    period: str
    category: str
    description: str
    source: str = strawberry.field(description="manual, csv:<file>:<line>, …")
    created_at: datetime
    service_id: strawberry.Private[int]


@strawberry.type(description="How much of a service a customer consumed in a month.")
class UsageRecord:
    id: int
    period: str
    quantity: Decimal
    unit: str
    source: str
    customer_id: strawberry.Private[int]
    service_id: strawberry.Private[int]

    @strawberry.field
    async def customer(self, info: Info[Context, None]) -> CustomerNode:
        return await _customer(info, self.customer_id)

    @strawberry.field
    async def service(self, info: Info[Context, None]) -> ServiceNode:
        return await _service(info, self.service_id)


@strawberry.type(description="How a service is charged: a charging model and its "
                             "parameters. A service without one is a cost centre.")
class ChargingPolicy:
    model: str
    parameters: JSON
    updated_at: datetime


@strawberry.type(description="A charging model installed on this server.")
class ChargingModelInfo:
    name: str
    title: str
    description: str
    billed: bool = strawberry.field(description="False for notional models (showback).")
    plugin: str


@strawberry.type(description="A cost category: a standard one or the organisation's own.")
class CostCategoryInfo:
    code: str
    title: str
    standard: bool


@strawberry.type(description="One line of a statement or charging run.")
class ChargeLine:
    model: str = strawberry.field(description="The charging model, or `adjustment`.")
    amount: Money
    billed: bool = strawberry.field(description="False for notional (showback) lines.")
    description: str
    corrects_period: str | None = strawberry.field(
        description="On adjustment lines: the closed month being corrected.")
    service_id: strawberry.Private[int]
    customer_id: strawberry.Private[int]

    @strawberry.field
    async def service(self, info: Info[Context, None]) -> ServiceNode:
        return await _service(info, self.service_id)

    @strawberry.field
    async def customer(self, info: Info[Context, None]) -> CustomerNode:
        return await _customer(info, self.customer_id)

    @classmethod
    def of(cls, line: RunLine | rows.StatementLine, customer_id: int, currency: str
           ) -> ChargeLine:
        """A line of a run (computed) or of a statement (saved): the same fields."""
        return cls(model=line.model, amount=money_in(line.amount, currency),
                   billed=line.billed, description=line.description,
                   corrects_period=line.corrects_period, service_id=line.service_id,
                   customer_id=customer_id)


@strawberry.type(name="Statement", description="What one customer is charged for one "
                                               "month; final once the month is closed.")
class StatementNode(LoadedNode):
    loader_name = "statement"

    id: relay.NodeID[int]
    period: str
    currency: str
    issued_at: datetime
    closed_at: datetime | None = strawberry.field(
        description="When the month closed; from then on the statement never changes.")
    customer_id: strawberry.Private[int]

    @strawberry.field(description="The billed lines' sum.")
    def total(self, root: strawberry.Parent[Any]) -> Money:
        return money_in(root.total, root.currency)

    @strawberry.field(description="The notional (showback) lines' sum, not billed.")
    def notional_total(self, root: strawberry.Parent[Any]) -> Money:
        return money_in(root.notional_total, root.currency)

    @strawberry.field
    async def customer(self, info: Info[Context, None]) -> CustomerNode:
        return await _customer(info, self.customer_id)

    @strawberry.field
    async def lines(self, info: Info[Context, None], root: strawberry.Parent[Any]
                    ) -> list[ChargeLine]:
        rows = await info.context.loaders.lines_of_statement.load(root.id)
        return [ChargeLine.of(row, root.customer_id, root.currency) for row in rows]


@strawberry.type(description="One customer's charges in a charging run.")
class CustomerStatementDraft:
    total: Money
    notional_total: Money
    lines: list[ChargeLine]
    customer_id: strawberry.Private[int]

    @strawberry.field
    async def customer(self, info: Info[Context, None]) -> CustomerNode:
        return await _customer(info, self.customer_id)


@strawberry.type(description="The charges of a month, per customer and service.")
class ChargingRunResult:
    period: str
    currency: str
    issued: bool = strawberry.field(description="False for a dry run: nothing was saved.")
    total: Money = strawberry.field(description="Everything billed.")
    notional_total: Money
    actual_cost: Money = strawberry.field(description="The charged services' actual cost.")
    statements: list[CustomerStatementDraft]

    @classmethod
    def of(cls, run: ChargingRun, issued: bool) -> ChargingRunResult:
        currency = run.currency
        zero = Decimal(0)
        drafts = [
            CustomerStatementDraft(
                customer_id=customer_id,
                total=money_in(sum((ln.amount for ln in lines if ln.billed), zero), currency),
                notional_total=money_in(
                    sum((ln.amount for ln in lines if not ln.billed), zero), currency),
                lines=[ChargeLine.of(line, line.customer_id, currency) for line in lines])
            for customer_id, lines in run.lines_by_customer().items()
        ]
        return cls(
            period=run.period, currency=currency, issued=issued,
            total=money_in(sum((ln.amount for ln in run.lines if ln.billed), zero), currency),
            notional_total=money_in(
                sum((ln.amount for ln in run.lines if not ln.billed), zero), currency),
            actual_cost=money_in(sum(run.cost_of_service.values(), zero), currency),
            statements=drafts)
