"""A proposal's business case over fiscal years, and the benefits a live service then
realises, compared with it.

Setting the case replaces every year of it and writes its totals onto the service:
``estimated_cost`` becomes the total cost of ownership and ``expected_benefit`` the
total benefit, so everything that reads the single estimates (the baseline, the
investment report, scoring models) reads the case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.finance.books import Books, books_of
from spm_api.domain.portfolio.services import check_version, touch
from spm_api.domain.reads import load_owned
from spm_api.domain.strategy.figures import CashFlow
from spm_api.models import BusinessCaseYear, RealisedBenefit, Service
from spm_api.vocabulary.errors import DomainError, ErrorCode, Problem, fail
from spm_api.vocabulary.money import LARGEST, Money
from spm_api.vocabulary.stages import Stage
from spm_api.vocabulary.validation import optional_text

#: The case is what the decision makers vote on: it is written while the proposal is
#: defined and analysed, and stays as it is from APPROVAL on.
CASE_STAGES = frozenset({Stage.DEFINITION, Stage.ANALYSIS})
#: Benefits are realised by a service in the catalogue.
REALISING_STAGES = frozenset({Stage.LIVE, Stage.RETIRING})
MAX_YEARS = 30
FIRST_YEAR, LAST_YEAR = 1900, 9999
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class YearInput:
    fiscal_year: int
    investment: Money
    running_cost: Money
    benefit: Money


def flows_of(rows: Sequence[BusinessCaseYear]) -> list[CashFlow]:
    return sorted((CashFlow(row.fiscal_year, row.investment, row.running_cost, row.benefit)
                   for row in rows), key=lambda flow: flow.fiscal_year)


def _checked_years(years: Sequence[YearInput], books: Books) -> list[CashFlow]:
    """Every problem with the years at once: amounts (non-negative, in the books'
    currency), fiscal years in range, each once, one after another."""
    if not years:
        raise fail(ErrorCode.VALIDATION, "a business case has at least one fiscal year",
                   "years")
    if len(years) > MAX_YEARS:
        raise fail(ErrorCode.VALIDATION, f"a business case spans at most {MAX_YEARS} "
                   f"fiscal years", "years")
    problems: list[Problem] = []
    flows = []
    for index, year in enumerate(years):
        where = f"years.{index}"
        if not FIRST_YEAR <= year.fiscal_year <= LAST_YEAR:
            problems.append(Problem(ErrorCode.VALIDATION, f"FY{year.fiscal_year} is not a "
                                    f"fiscal year SPM API keeps", f"{where}.fiscalYear"))
        amounts = []
        for name, money in (("investment", year.investment),
                            ("runningCost", year.running_cost), ("benefit", year.benefit)):
            try:
                value = books.optional_cost(money, f"{where}.{name}")
            except DomainError as refused:
                problems.extend(refused.problems)
                value = ZERO
            amounts.append(value or ZERO)
        flows.append(CashFlow(year.fiscal_year, *amounts))
    numbers = sorted(year.fiscal_year for year in years)
    if len(set(numbers)) != len(numbers):
        problems.append(Problem(ErrorCode.VALIDATION, "each fiscal year appears once",
                                "years"))
    elif numbers[-1] - numbers[0] + 1 != len(numbers):
        problems.append(Problem(ErrorCode.VALIDATION,
                                f"the fiscal years must follow one another: FY{numbers[0]} "
                                f"to FY{numbers[-1]} leaves gaps (give a year of zeros)",
                                "years"))
    for total, name in ((sum((flow.cost for flow in flows), ZERO), "cost"),
                        (sum((flow.benefit for flow in flows), ZERO), "benefit")):
        if total > LARGEST:
            problems.append(Problem(ErrorCode.VALIDATION, f"the case's total {name} must "
                                    f"be at most {LARGEST}", "years"))
    if problems:
        raise DomainError(*problems)
    return sorted(flows, key=lambda flow: flow.fiscal_year)


async def set_business_case(session: AsyncSession, actor: Actor, service_id: int,
                            years: Sequence[YearInput], expected_version: int | None = None
                            ) -> Service:
    """Replace the service's business case with ``years``; its estimated cost and
    expected benefit become the case's totals."""
    actor.require(Permission.EDIT_SERVICE)
    service = await load_owned(session, Service, actor.organisation_id, service_id,
                               "serviceId")
    check_version(service, expected_version)
    if service.stage not in CASE_STAGES:
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"the business case is written in DEFINITION or ANALYSIS; the service "
                   f"is {service.stage.value}", "serviceId")
    books = await books_of(session, actor.organisation_id, lock=True)
    flows = _checked_years(years, books)
    await session.execute(delete(BusinessCaseYear).where(
        BusinessCaseYear.service_id == service.id))
    session.add_all(BusinessCaseYear(
        organisation_id=actor.organisation_id, service_id=service.id,
        fiscal_year=flow.fiscal_year, investment=flow.investment,
        running_cost=flow.running_cost, benefit=flow.benefit) for flow in flows)
    service.estimated_cost = sum((flow.cost for flow in flows), ZERO)
    service.expected_benefit = sum((flow.benefit for flow in flows), ZERO)
    touch(service)
    await session.flush()
    return service


async def record_realised_benefit(session: AsyncSession, actor: Actor, service_id: int,
                                  fiscal_year: int, amount: Money, note: str = ""
                                  ) -> RealisedBenefit:
    """What a live service brought in ``fiscal_year``; recording a year again replaces
    its figure."""
    actor.require(Permission.RECORD_BENEFITS)
    service = await load_owned(session, Service, actor.organisation_id, service_id,
                               "serviceId")
    if service.stage not in REALISING_STAGES:
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"benefits are realised once the service is LIVE; it is "
                   f"{service.stage.value}", "serviceId")
    if not FIRST_YEAR <= fiscal_year <= LAST_YEAR:
        raise fail(ErrorCode.VALIDATION, f"FY{fiscal_year} is not a fiscal year SPM API "
                   f"keeps", "fiscalYear")
    books = await books_of(session, actor.organisation_id, lock=True)
    value = books.optional_cost(amount, "amount") or ZERO
    text = optional_text(note, "note", 2000)
    row = await session.scalar(select(RealisedBenefit).where(
        RealisedBenefit.service_id == service.id, RealisedBenefit.fiscal_year == fiscal_year))
    if row is None:
        row = RealisedBenefit(organisation_id=actor.organisation_id, service_id=service.id,
                              fiscal_year=fiscal_year, amount=value, note=text,
                              recorded_by_id=actor.person_id)
        session.add(row)
    else:
        row.amount, row.note = value, text
        row.recorded_by_id, row.recorded_at = actor.person_id, utcnow()
    touch(service)
    await session.flush()
    return row


@dataclass(frozen=True, slots=True)
class Realisation:
    """One fiscal year of the case against what was realised (None: not recorded)."""

    fiscal_year: int
    expected: Decimal
    realised: Decimal | None

    @property
    def variance(self) -> Decimal | None:
        """Realised minus expected: negative when the service fell short of its case."""
        return None if self.realised is None else self.realised - self.expected


def realisation(case: Sequence[BusinessCaseYear], realised: Sequence[RealisedBenefit]
                ) -> list[Realisation]:
    """Every fiscal year of the case or with a recorded benefit, oldest first."""
    expected = {row.fiscal_year: row.benefit for row in case}
    actual = {row.fiscal_year: row.amount for row in realised}
    return [Realisation(year, expected.get(year, ZERO), actual.get(year))
            for year in sorted(expected.keys() | actual.keys())]
