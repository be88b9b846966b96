"""Finance reports as GraphQL: every organisation member may read them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from spm_api.domain.actor import Actor
from spm_api.domain.finance import books as finance_books
from spm_api.domain.finance import ranking, reports
from spm_api.domain.session import Session
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import InvestmentCategory, ReportDimension, Section
from spm_api.graphql.core.money import Money, books_currency, money_in
from spm_api.graphql.core.nodes import as_node, present
from spm_api.graphql.core.reading import read
from spm_api.graphql.finance.types import CustomerNode
from spm_api.graphql.portfolio.types import ServiceNode, service_of
from spm_api.graphql.strategy.reports import InvestmentMix, investment_mix

T = TypeVar("T")



@strawberry.type(description="Budget and actual cost of one group; variance = budget - "
                             "actual (negative: over budget).")
class VarianceRow:
    category: str | None
    period: str | None = strawberry.field(description="The month (2026-11), fiscal quarter "
                                                      "(FY2027-Q3) or fiscal year (FY2027) "
                                                      "grouped by; null when not grouped by "
                                                      "time.")
    budget: Money
    actual: Money
    variance: Money
    variance_percent: Decimal | None = strawberry.field(
        description="Variance as a percentage of the budget; null without a budget.")
    service_id: strawberry.Private[int | None]

    @strawberry.field(description="Null unless grouped by SERVICE.")
    async def service(self, info: Info[Context, None]) -> ServiceNode | None:
        return await service_of(info, self.service_id)


@strawberry.type
class BudgetVsActual:
    rows: list[VarianceRow]
    total: VarianceRow


def _variance(row: reports.VarianceRow, currency: str) -> VarianceRow:
    percent = None
    if row.budget != 0:
        percent = (row.variance / row.budget * 100).quantize(Decimal("0.01"))
    return VarianceRow(category=row.category, period=row.period,
                       budget=money_in(row.budget, currency),
                       actual=money_in(row.actual, currency),
                       variance=money_in(row.variance, currency), variance_percent=percent,
                       service_id=row.service_id)


@strawberry.type(description="Investment in one investment category and section.")
class InvestmentRow:
    investment_category: InvestmentCategory
    section: Section
    services: int
    estimated_cost: Money
    expected_benefit: Money
    budget: Money = strawberry.field(description="Budget in the fiscal year.")
    actual: Money = strawberry.field(description="Actual cost in the fiscal year.")


@strawberry.type
class CustomerCharges:
    billed: Money
    notional: Money = strawberry.field(description="Showback: reported, not billed.")
    statements: int
    customer_id: strawberry.Private[int]

    @strawberry.field
    async def customer(self, info: Info[Context, None]) -> CustomerNode:
        return present(await info.context.loaders.customer.load(self.customer_id))


@strawberry.type
class CostRecovery:
    actual_cost: Money
    charged: Money = strawberry.field(description="Billed on issued statements.")
    rate: Decimal | None = strawberry.field(
        description="charged / actual cost (1 = fully recovered); null without cost.")
    service_id: strawberry.Private[int]

    @strawberry.field
    async def service(self, info: Info[Context, None]) -> ServiceNode | None:
        return await service_of(info, self.service_id)


@strawberry.type(description="One part of a score: its value 0-1, its weight and the "
                             "points it added (rounded half-up to two places).")
class ScoreFactor:
    name: str
    part: Decimal
    weight: Decimal
    contribution: Decimal
    explanation: str


@strawberry.type
class RankedService:
    rank: int
    score: Decimal
    explanation: str
    supporting: int
    opposing: int
    factors: list[ScoreFactor] = strawberry.field(
        description="The score per factor, when the scoring model breaks it down.")
    risk_exposure: int = strawberry.field(
        description="Likelihood x impact of its risks that are not CLOSED, added up.")
    alignment: Decimal = strawberry.field(
        description="The weights it is aligned to strategic objectives with, added up.")
    service_row: strawberry.Private[Any]

    @strawberry.field
    def service(self) -> ServiceNode:
        return present(as_node(ServiceNode, self.service_row))


@strawberry.type(description="Finance reports of your organisation.")
class Reports:
    @strawberry.field(description="Budget vs actual cost between two months (inclusive), "
                                  "grouped by the dimensions asked for (by default per "
                                  "service; an empty list gives the total only).")
    async def budget_vs_actual(
        self, info: Info[Context, None], from_period: str, to_period: str,
        group_by: list[ReportDimension] | None = None,
        service_ids: list[strawberry.ID] | None = None,
    ) -> BudgetVsActual:
        from spm_api.graphql.core.ids import node_pk

        currency = await books_currency(info)
        dimensions = [reports.Dimension.SERVICE] if group_by is None else list(group_by)

        async def query(session: Session, actor: Actor) -> list[reports.VarianceRow]:
            months = reports.Months.parse(from_period, to_period)
            ids = [node_pk(raw, "Service", "serviceIds") for raw in service_ids or ()]
            books = await finance_books.books_of(session, actor.organisation_id)
            return await reports.budget_vs_actual(session, actor, months, dimensions, ids,
                                                  books.fiscal_year_start_month)

        rows = await read(info, query)
        total = reports.VarianceRow(None, None, None,
                                    sum((row.budget for row in rows), Decimal(0)),
                                    sum((row.actual for row in rows), Decimal(0)))
        return BudgetVsActual(rows=[_variance(row, currency) for row in rows],
                              total=_variance(total, currency))

    @strawberry.field(description="Investment per investment category and section in a "
                                  "fiscal year (named by the year it ends in).")
    async def investment(self, info: Info[Context, None], fiscal_year: int
                         ) -> list[InvestmentRow]:
        async def query(session: Session, actor: Actor) -> list[InvestmentRow]:
            books = await finance_books.books_of(session, actor.organisation_id)
            rows = await reports.investment(session, actor, fiscal_year,
                                            books.fiscal_year_start_month)
            c = books.currency
            return [InvestmentRow(
                investment_category=row.investment_category, section=row.section,
                services=row.services, estimated_cost=money_in(row.estimated_cost, c),
                expected_benefit=money_in(row.expected_benefit, c),
                budget=money_in(row.budget, c), actual=money_in(row.actual, c))
                for row in rows]

        return await read(info, query)

    @strawberry.field(description="What issued statements charge each customer.")
    async def charges_per_customer(self, info: Info[Context, None], from_period: str,
                                   to_period: str) -> list[CustomerCharges]:
        currency = await books_currency(info)

        async def query(session: Session, actor: Actor
                        ) -> list[reports.CustomerCharges]:
            months = reports.Months.parse(from_period, to_period)
            return await reports.charges_per_customer(session, actor, months)

        return [CustomerCharges(billed=money_in(row.billed, currency),
                                notional=money_in(row.notional, currency),
                                statements=row.statements, customer_id=row.customer_id)
                for row in await read(info, query)]

    @strawberry.field(description="Per service: charged / actual cost over the months.")
    async def cost_recovery(self, info: Info[Context, None], from_period: str,
                            to_period: str) -> list[CostRecovery]:
        currency = await books_currency(info)

        async def query(session: Session, actor: Actor) -> list[reports.Recovery]:
            months = reports.Months.parse(from_period, to_period)
            return await reports.cost_recovery(session, actor, months)

        return [CostRecovery(actual_cost=money_in(row.actual, currency),
                             charged=money_in(row.charged, currency), rate=row.rate,
                             service_id=row.service_id)
                for row in await read(info, query)]

    @strawberry.field(description="Pipeline services ranked for investment by a scoring "
                                  f"model (a plugin hook; `{ranking.DEFAULT_SCORING_MODEL}` "
                                  "by default).")
    async def pipeline_ranking(self, info: Info[Context, None],
                               scoring_model: str = ranking.DEFAULT_SCORING_MODEL
                               ) -> list[RankedService]:
        plugins = info.context.plugins

        async def query(session: Session, actor: Actor) -> list[ranking.Ranked]:
            return await ranking.pipeline_ranking(session, actor, plugins, scoring_model)

        return [RankedService(rank=row.rank, score=row.score.value,
                              explanation=row.score.explanation,
                              supporting=row.support.support, opposing=row.support.oppose,
                              factors=[ScoreFactor(name=f.name, part=f.part, weight=f.weight,
                                                   contribution=f.contribution,
                                                   explanation=f.explanation)
                                       for f in row.score.factors],
                              risk_exposure=row.exposure.total, alignment=row.alignment,
                              service_row=row.service)
                for row in await read(info, query)]

    @strawberry.field(description="The investment mix of a fiscal year: run / grow / "
                                  "transform against the organisation's target mix, and "
                                  "what is invested in each strategic objective.")
    async def investment_mix(self, info: Info[Context, None], fiscal_year: int
                             ) -> InvestmentMix:
        return await investment_mix(info, fiscal_year)
