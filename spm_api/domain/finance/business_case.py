"""The business case of a service as plugins see it: estimated cost, expected benefit,
investment category, the budget of its first fiscal year, and the years of its
multi-year case each with that year's budget."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.finance.books import Books
from spm_api.models import BudgetLine, BusinessCaseYear, Service
from spm_api.plugins.contracts import CaseYear, ServiceFacts
from spm_api.vocabulary.periods import Period

#: A service's budget summed per month: (``YYYY-MM``, amount), oldest first.
MonthlyBudget = Sequence[tuple[str, Decimal]]


async def monthly_budgets(*, session: AsyncSession, organisation_id: int,
                          ids: Sequence[int]) -> list[list[tuple[str, Decimal]]]:
    """Each service's budget per month, in one grouped statement."""
    service_ids = ids
    found: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    rows = await session.execute(
        select(BudgetLine.service_id, BudgetLine.period, func.sum(BudgetLine.amount))
        .where(BudgetLine.organisation_id == organisation_id,
               BudgetLine.service_id.in_(service_ids))
        .group_by(BudgetLine.service_id, BudgetLine.period)
        .order_by(BudgetLine.service_id, BudgetLine.period))
    for service_id, period, total in rows:
        found[service_id].append((period, total))
    return [found.get(service_id, []) for service_id in service_ids]


def first_year_budget(budget: MonthlyBudget, fiscal_year_start_month: int
                      ) -> tuple[int | None, Decimal]:
    """The fiscal year of the earliest budgeted month and that year's budget."""
    if not budget:
        return None, Decimal(0)
    first = Period.parse(budget[0][0]).fiscal_year(fiscal_year_start_month)
    total = sum((amount for period, amount in budget
                 if Period.parse(period).fiscal_year(fiscal_year_start_month) == first),
                Decimal(0))
    return first, total


def yearly_budget(budget: MonthlyBudget, fiscal_year_start_month: int) -> dict[int, Decimal]:
    """The budget summed per fiscal year."""
    found: dict[int, Decimal] = defaultdict(Decimal)
    for period, amount in budget:
        found[Period.parse(period).fiscal_year(fiscal_year_start_month)] += amount
    return dict(found)


def case_years(case: Sequence[BusinessCaseYear], budget: MonthlyBudget,
               fiscal_year_start_month: int) -> tuple[CaseYear, ...]:
    """The case's years, oldest first, each with the service's budget for it."""
    per_year = yearly_budget(budget, fiscal_year_start_month)
    return tuple(CaseYear(row.fiscal_year, row.investment, row.running_cost, row.benefit,
                          per_year.get(row.fiscal_year, Decimal(0)))
                 for row in sorted(case, key=lambda row: row.fiscal_year))


def service_facts(service: Service, books: Books, budget: MonthlyBudget,
                  case: Sequence[BusinessCaseYear] = ()) -> ServiceFacts:
    fiscal_year, first_year_total = first_year_budget(budget, books.fiscal_year_start_month)
    return ServiceFacts(
        id=service.id,
        organisation_id=service.organisation_id,
        name=service.name,
        investment_category=service.investment_category,
        estimated_cost=service.estimated_cost,
        currency=books.currency,
        expected_benefit=service.expected_benefit,
        first_fiscal_year=fiscal_year,
        first_year_budget=first_year_total,
        case=case_years(case, budget, books.fiscal_year_start_month),
    )
