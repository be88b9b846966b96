"""The investment mix report: actual run / grow / transform against the target, and the
strategic objectives nothing is invested in."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry.types import Info

from spm_api.domain.actor import Actor
from spm_api.domain.finance import books as finance_books
from spm_api.domain.session import Session
from spm_api.domain.strategy import mix
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import InvestmentCategory
from spm_api.graphql.core.money import Money, money_in
from spm_api.graphql.core.nodes import as_node, as_nodes, present
from spm_api.graphql.core.reading import read
from spm_api.graphql.strategy.types import StrategicObjectiveNode


@strawberry.type(description="One investment category's money in the fiscal year and its "
                             "share against the target (shares to four places, half-up).")
class CategoryMix:
    investment_category: InvestmentCategory
    budget: Money
    actual: Money = strawberry.field(description="Actual cost booked in the year.")
    planned: Money = strawberry.field(
        description="Business cases' investment and running cost for the year.")
    actual_share: Decimal | None = strawberry.field(
        description="Its share of the year's actual cost; null when nothing was booked.")
    budget_share: Decimal | None = strawberry.field(
        description="Its share of the year's budget; null without a budget.")
    target_share: Decimal | None = strawberry.field(
        description="The organisation's target; null until it sets a target mix.")
    gap: Decimal | None = strawberry.field(
        description="Actual share - target share: above 0 when the category gets more "
                    "than aimed.")


@strawberry.type(description="What the services aligned to an objective (not retired or "
                             "terminated) have in the fiscal year.")
class ObjectiveInvestment:
    services: int = strawberry.field(description="Services aligned to it, not ended.")
    budget: Money
    actual: Money
    planned: Money
    invested: bool = strawberry.field(description="Whether any of the three is above 0.")
    objective_row: strawberry.Private[object]

    @strawberry.field
    def objective(self) -> StrategicObjectiveNode:
        return present(as_node(StrategicObjectiveNode, self.objective_row))


@strawberry.type(description="The investment mix of one fiscal year.")
class InvestmentMix:
    fiscal_year: int
    categories: list[CategoryMix] = strawberry.field(description="RUN, GROW, TRANSFORM.")
    objectives: list[ObjectiveInvestment] = strawberry.field(description="By name.")
    objectives_without_investment: list[StrategicObjectiveNode] = strawberry.field(
        description="Objectives no aligned service has budget, actual cost or a business "
                    "case cost for in the year.")


async def investment_mix(info: Info[Context, None], fiscal_year: int) -> InvestmentMix:
    async def query(session: Session, actor: Actor) -> tuple[mix.InvestmentMix, str]:
        books = await finance_books.books_of(session, actor.organisation_id)
        found = await mix.investment_mix(session, actor, fiscal_year,
                                         books.fiscal_year_start_month)
        return found, books.currency

    found, currency = await read(info, query)
    return InvestmentMix(
        fiscal_year=found.fiscal_year,
        categories=[CategoryMix(
            investment_category=row.investment_category,
            budget=money_in(row.money.budget, currency),
            actual=money_in(row.money.actual, currency),
            planned=money_in(row.money.planned, currency),
            actual_share=row.actual_share, budget_share=row.budget_share,
            target_share=row.target_share, gap=row.gap) for row in found.categories],
        objectives=[ObjectiveInvestment(
            services=row.services, budget=money_in(row.money.budget, currency),
            actual=money_in(row.money.actual, currency),
            planned=money_in(row.money.planned, currency), invested=row.money.any,
            objective_row=row.objective) for row in found.objectives],
        objectives_without_investment=as_nodes(StrategicObjectiveNode,
                                               found.without_investment))
