"""Finance reports. Each is a handful of grouped SQL statements: the database sums the
rows, Python only lines the sums up."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor
from spm_api.models import BudgetLine, CostEntry, Service, Statement, StatementLine
from spm_api.vocabulary.enums import InvestmentCategory
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.periods import Period, fiscal_year_months
from spm_api.vocabulary.stages import Section

ZERO = Decimal(0)


class Dimension(StrEnum):
    SERVICE = "SERVICE"
    CATEGORY = "CATEGORY"
    #: Time, at one of three grains: the month, its fiscal quarter or its fiscal year.
    PERIOD = "PERIOD"
    FISCAL_QUARTER = "FISCAL_QUARTER"
    FISCAL_YEAR = "FISCAL_YEAR"


TIME_DIMENSIONS = (Dimension.PERIOD, Dimension.FISCAL_QUARTER, Dimension.FISCAL_YEAR)


def time_label(period: str, grain: Dimension, fiscal_year_start_month: int) -> str:
    """``2026-11``, ``FY2027-Q3`` or ``FY2027``: the bucket a month falls in."""
    if grain is Dimension.PERIOD:
        return period
    month = Period.parse(period)
    year = f"FY{month.fiscal_year(fiscal_year_start_month)}"
    if grain is Dimension.FISCAL_YEAR:
        return year
    return f"{year}-Q{month.fiscal_quarter(fiscal_year_start_month)}"


@dataclass(frozen=True, slots=True)
class Months:
    """An inclusive range of months, at most ten years long."""

    first: Period
    last: Period

    @classmethod
    def parse(cls, first: str, last: str) -> Months:
        start, end = Period.parse(first, "from"), Period.parse(last, "to")
        if end < start:
            raise fail(ErrorCode.VALIDATION, f"{last} is before {first}", "to")
        if (end.year - start.year) * 12 + end.month - start.month >= 120:
            raise fail(ErrorCode.VALIDATION, "report on at most 120 months at a time", "to")
        return cls(start, end)

    def where(self, column: Any) -> ColumnElement[bool]:
        between: ColumnElement[bool] = column.between(str(self.first), str(self.last))
        return between


@dataclass(frozen=True, slots=True)
class VarianceRow:
    service_id: int | None
    category: str | None
    period: str | None
    budget: Decimal
    actual: Decimal

    @property
    def variance(self) -> Decimal:
        """Budget left over: positive under budget, negative over it."""
        return self.budget - self.actual


async def budget_vs_actual(session: AsyncSession, actor: Actor, months: Months,
                           group_by: Sequence[Dimension], service_ids: Sequence[int] = (),
                           fiscal_year_start_month: int = 1) -> list[VarianceRow]:
    """Budget and actual cost summed per the chosen dimensions (none: one total row).
    SQL sums per month; fiscal quarters and years add those monthly sums up."""
    dimensions = list(dict.fromkeys(group_by))
    grains = [dimension for dimension in dimensions if dimension in TIME_DIMENSIONS]
    if len(grains) > 1:
        raise fail(ErrorCode.VALIDATION, "group by one of PERIOD, FISCAL_QUARTER and "
                   "FISCAL_YEAR at a time", "groupBy")
    grain = grains[0] if grains else None

    async def sums(model: type[BudgetLine] | type[CostEntry]) -> dict[tuple[Any, ...], Decimal]:
        columns = {Dimension.SERVICE: model.service_id, Dimension.CATEGORY: model.category,
                   Dimension.PERIOD: model.period, Dimension.FISCAL_QUARTER: model.period,
                   Dimension.FISCAL_YEAR: model.period}
        keys = [columns[dimension] for dimension in dimensions]
        query = (select(*keys, func.sum(model.amount))
                 .where(model.organisation_id == actor.organisation_id,
                        months.where(model.period)))
        if service_ids:
            query = query.where(model.service_id.in_(set(service_ids)))
        if keys:
            query = query.group_by(*keys)
        found: dict[tuple[Any, ...], Decimal] = defaultdict(lambda: ZERO)
        for row in await session.execute(query):
            *values, total = row
            key = tuple(
                time_label(str(value), grain, fiscal_year_start_month)
                if grain is not None and dimension is grain else value
                for dimension, value in zip(dimensions, values, strict=True))
            found[key] += total or ZERO
        return found

    budget, actual = await sums(BudgetLine), await sums(CostEntry)
    rows = []
    for key in sorted(budget.keys() | actual.keys()):
        named = dict(zip(dimensions, key, strict=True))
        rows.append(VarianceRow(named.get(Dimension.SERVICE), named.get(Dimension.CATEGORY),
                                None if grain is None else named[grain],
                                budget.get(key, ZERO), actual.get(key, ZERO)))
    return rows


@dataclass(frozen=True, slots=True)
class InvestmentRow:
    investment_category: InvestmentCategory
    section: Section
    services: int
    estimated_cost: Decimal
    expected_benefit: Decimal
    budget: Decimal
    actual: Decimal


async def investment(session: AsyncSession, actor: Actor, fiscal_year: int,
                     start_month: int) -> list[InvestmentRow]:
    """The portfolio's investment per investment category and section: the business
    cases of its services, and their budget and actual cost in the fiscal year."""
    months = fiscal_year_months(fiscal_year, start_month)
    in_year = Months(months[0], months[-1])
    group = (Service.investment_category, Service.section)
    mine = Service.organisation_id == actor.organisation_id
    cases = {
        (category, section): (count, cost or ZERO, benefit or ZERO)
        for category, section, count, cost, benefit in (await session.execute(
            select(*group, func.count(Service.id), func.sum(Service.estimated_cost),
                   func.sum(Service.expected_benefit))
            .where(mine).group_by(*group)))
    }

    async def spent(model: type[BudgetLine] | type[CostEntry]
                    ) -> dict[tuple[Any, ...], Decimal]:
        rows = await session.execute(
            select(*group, func.sum(model.amount))
            .join(Service, Service.id == model.service_id)
            .where(mine, in_year.where(model.period)).group_by(*group))
        return {(category, section): total or ZERO
                for category, section, total in rows}

    budget, actual = await spent(BudgetLine), await spent(CostEntry)
    return [
        InvestmentRow(category, section, *cases.get((category, section), (0, ZERO, ZERO)),
                      budget.get((category, section), ZERO),
                      actual.get((category, section), ZERO))
        for category in InvestmentCategory for section in Section
        if (category, section) in cases.keys() | budget.keys() | actual.keys()
    ]


@dataclass(frozen=True, slots=True)
class CustomerCharges:
    customer_id: int
    billed: Decimal
    notional: Decimal
    statements: int


async def charges_per_customer(session: AsyncSession, actor: Actor, months: Months
                               ) -> list[CustomerCharges]:
    """What issued statements charge each customer over the months, largest first."""
    rows = await session.execute(
        select(Statement.customer_id, func.sum(Statement.total),
               func.sum(Statement.notional_total), func.count(Statement.id))
        .where(Statement.organisation_id == actor.organisation_id,
               months.where(Statement.period))
        .group_by(Statement.customer_id))
    found = [CustomerCharges(customer, billed or ZERO, notional or ZERO, count)
             for customer, billed, notional, count in rows]
    return sorted(found, key=lambda row: (-row.billed, row.customer_id))


@dataclass(frozen=True, slots=True)
class Recovery:
    service_id: int
    actual: Decimal
    charged: Decimal

    @property
    def rate(self) -> Decimal | None:
        """Charged / actual cost, to four decimals; None without cost."""
        if self.actual == 0:
            return None
        return (self.charged / self.actual).quantize(Decimal("0.0001"))


async def cost_recovery(session: AsyncSession, actor: Actor, months: Months
                        ) -> list[Recovery]:
    """Per service, the actual cost booked and what issued statements billed for it."""
    actual = dict((await session.execute(
        select(CostEntry.service_id, func.sum(CostEntry.amount))
        .where(CostEntry.organisation_id == actor.organisation_id,
               months.where(CostEntry.period))
        .group_by(CostEntry.service_id))).all())
    charged = dict((await session.execute(
        select(StatementLine.service_id, func.sum(StatementLine.amount))
        .join(Statement, Statement.id == StatementLine.statement_id)
        .where(StatementLine.organisation_id == actor.organisation_id,
               StatementLine.billed.is_(True), months.where(Statement.period))
        .group_by(StatementLine.service_id))).all())
    totals: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for service_id, total in actual.items():
        totals[service_id][0] = total or ZERO
    for service_id, total in charged.items():
        totals[service_id][1] = total or ZERO
    return [Recovery(service_id, cost, billed)
            for service_id, (cost, billed) in sorted(totals.items())]
