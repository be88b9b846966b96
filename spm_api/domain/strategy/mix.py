"""The investment mix of a fiscal year: how the portfolio's money splits between run,
grow and transform against the organisation's target, and which strategic objectives
nothing is invested in. Grouped SQL sums; Python only lines them up.

The money of a service in the year is its budget, its actual cost and its business
case's cost (investment and running cost) for that year. An objective has investment
when a service aligned to it, not ended (RETIRED or TERMINATED), has any of the three.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor
from spm_api.domain.finance.reports import Months
from spm_api.domain.strategy.settings import strategy_of
from spm_api.models import (
    BudgetLine,
    BusinessCaseYear,
    CostEntry,
    Service,
    ServiceAlignment,
    StrategicObjective,
)
from spm_api.models.columns import FixedDecimal
from spm_api.vocabulary.enums import InvestmentCategory
from spm_api.vocabulary.periods import fiscal_year_months
from spm_api.vocabulary.stages import Section

ZERO = Decimal(0)
FOUR_PLACES = Decimal("0.0001")
ENDED_SECTIONS = (Section.RETIRED, Section.TERMINATED)


@dataclass(frozen=True, slots=True)
class Money3:
    budget: Decimal = ZERO
    actual: Decimal = ZERO
    planned: Decimal = ZERO

    @property
    def any(self) -> bool:
        return bool(self.budget or self.actual or self.planned)


@dataclass(frozen=True, slots=True)
class CategoryMix:
    investment_category: InvestmentCategory
    money: Money3
    #: Share of the year's actual cost, and of its budget (None: nothing to share).
    actual_share: Decimal | None
    budget_share: Decimal | None
    #: The organisation's target share (None until it sets a target mix).
    target_share: Decimal | None

    @property
    def gap(self) -> Decimal | None:
        """Actual share minus target: positive when the category gets more than aimed."""
        if self.actual_share is None or self.target_share is None:
            return None
        return self.actual_share - self.target_share


@dataclass(frozen=True, slots=True)
class ObjectiveInvestment:
    objective: StrategicObjective
    services: int
    money: Money3


@dataclass(frozen=True, slots=True)
class InvestmentMix:
    fiscal_year: int
    categories: tuple[CategoryMix, ...]
    objectives: tuple[ObjectiveInvestment, ...]

    @property
    def without_investment(self) -> list[StrategicObjective]:
        return [row.objective for row in self.objectives if not row.money.any]


def _share(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if whole == 0 else (part / whole).quantize(FOUR_PLACES, ROUND_HALF_UP)


async def _sums(session: AsyncSession, key: Any, joins: tuple[Any, ...], where: tuple[Any, ...],
                fiscal_year: int, months: Months) -> dict[Any, Money3]:
    """Budget, actual and case cost of the year, grouped by ``key`` over the services
    ``joins`` and ``where`` select."""
    found: dict[Any, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    sources: tuple[tuple[str, Any, Any, Any], ...] = (
        ("budget", BudgetLine, func.sum(BudgetLine.amount), months.where(BudgetLine.period)),
        ("actual", CostEntry, func.sum(CostEntry.amount), months.where(CostEntry.period)),
        ("planned", BusinessCaseYear,
         type_coerce(func.sum(BusinessCaseYear.investment + BusinessCaseYear.running_cost),
                     FixedDecimal()),
         BusinessCaseYear.fiscal_year == fiscal_year),
    )
    for name, model, total, in_year in sources:
        query = select(key, total).select_from(Service)
        for join in joins:
            query = query.join(*join)
        query = query.join(model, model.service_id == Service.id).where(*where, in_year)
        for group, amount in await session.execute(query.group_by(key)):
            found[group][name] += amount or ZERO
    return {group: Money3(**values) for group, values in found.items()}


async def investment_mix(session: AsyncSession, actor: Actor, fiscal_year: int,
                         start_month: int) -> InvestmentMix:
    months = fiscal_year_months(fiscal_year, start_month)
    in_year = Months(months[0], months[-1])
    mine = Service.organisation_id == actor.organisation_id
    per_category = await _sums(session, Service.investment_category, (), (mine,),
                               fiscal_year, in_year)
    strategy = await strategy_of(session, actor.organisation_id)
    target: Mapping[InvestmentCategory, Decimal] = strategy.target_mix or {}
    total_actual = sum((row.actual for row in per_category.values()), ZERO)
    total_budget = sum((row.budget for row in per_category.values()), ZERO)
    categories = tuple(
        CategoryMix(category, per_category.get(category, Money3()),
                    _share(per_category.get(category, Money3()).actual, total_actual),
                    _share(per_category.get(category, Money3()).budget, total_budget),
                    target.get(category))
        for category in InvestmentCategory)

    live = (mine, Service.section.not_in(ENDED_SECTIONS))
    aligned = ((ServiceAlignment, ServiceAlignment.service_id == Service.id),)
    per_objective = await _sums(session, ServiceAlignment.objective_id, aligned, live,
                                fiscal_year, in_year)
    counts = dict((await session.execute(
        select(ServiceAlignment.objective_id, func.count(Service.id))
        .join(Service, Service.id == ServiceAlignment.service_id)
        .where(*live).group_by(ServiceAlignment.objective_id))).all())
    objectives = await session.scalars(
        select(StrategicObjective)
        .where(StrategicObjective.organisation_id == actor.organisation_id)
        .order_by(StrategicObjective.name))
    return InvestmentMix(fiscal_year, categories, tuple(
        ObjectiveInvestment(objective, int(counts.get(objective.id, 0)),
                            per_objective.get(objective.id, Money3()))
        for objective in objectives))
