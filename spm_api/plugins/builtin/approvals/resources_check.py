"""The ``resources_check`` approval rule: is the proposal's cost covered by its budget?
With a multi-year business case, every fiscal year the case spans must be budgeted for
that year's investment and running cost; without one, the first fiscal year's budget
must cover the estimated cost. It never rejects: a shortfall is fixed by budgeting, and
must not kill a proposal the decision makers want; until it is fixed the round waits."""

from __future__ import annotations

from decimal import Decimal

from spm_api.plugins.contracts import ApprovalRule, Ballot, ServiceFacts, Settings, Verdict
from spm_api.plugins.markers import hookimpl
from spm_api.vocabulary.enums import ApprovalStatus
from spm_api.vocabulary.money import rounded

RULE_NAME = "resources_check"


def _money(amount: Decimal, currency: str) -> str:
    """``8000.00 EUR``: rounded to the currency's minor unit, code after."""
    return f"{format(rounded(amount, currency), 'f')} {currency}"


def evaluate(ballot: Ballot, _settings: Settings) -> Verdict:
    """APPROVED when the budget covers the cost (each year of the business case, or the
    estimated cost in the first fiscal year), otherwise PENDING saying what is missing."""
    service = ballot.service
    if service.case:
        return _every_year(service)
    cost = service.estimated_cost
    if cost is None:
        return Verdict(ApprovalStatus.PENDING,
                       "no estimated cost is recorded, so the budget cannot be checked")
    estimated = f"the estimated cost of {_money(cost, service.currency)}"
    if cost <= 0:
        return Verdict(ApprovalStatus.APPROVED, f"{estimated} needs no budget")
    if service.first_fiscal_year is None:
        return Verdict(ApprovalStatus.PENDING,
                       f"no budget is recorded, so the shortfall is the whole of {estimated}")
    budget = (f"the FY{service.first_fiscal_year} budget of "
              f"{_money(service.first_year_budget, service.currency)}")
    shortfall = cost - service.first_year_budget
    if shortfall > 0:
        return Verdict(ApprovalStatus.PENDING,
                       f"{budget} is {_money(shortfall, service.currency)} short of "
                       f"{estimated}")
    return Verdict(ApprovalStatus.APPROVED, f"{budget} covers {estimated}")


def _every_year(service: ServiceFacts) -> Verdict:
    """Each fiscal year of the case against that year's budget."""
    currency = service.currency
    costed = [year for year in service.case if year.cost > 0]
    if not costed:
        return Verdict(ApprovalStatus.APPROVED,
                       "the business case costs nothing in any year, so needs no budget")
    short = [year for year in costed if year.budget < year.cost]
    if short:
        gaps = "; ".join(
            f"FY{year.fiscal_year}: {_money(year.budget, currency)} budgeted for "
            f"{_money(year.cost, currency)}, {_money(year.cost - year.budget, currency)} "
            f"short" for year in short)
        return Verdict(ApprovalStatus.PENDING,
                       f"the budget is short of the business case in {len(short)} of its "
                       f"{len(service.case)} fiscal years ({gaps})")
    covered = "; ".join(
        f"FY{year.fiscal_year}: {_money(year.budget, currency)} budgeted for "
        f"{_money(year.cost, currency)}" for year in costed)
    return Verdict(ApprovalStatus.APPROVED,
                   f"the budget covers the business case in every one of its "
                   f"{len(service.case)} fiscal years ({covered})")


@hookimpl
def spm_approval_rules() -> list[ApprovalRule]:
    return [ApprovalRule(
        name=RULE_NAME,
        title="Resources check",
        description="Approved when the budget covers the cost of every fiscal year of the "
                    "service's business case (without one: the first fiscal year's "
                    "budget covers the estimated cost); pending, never rejected, while "
                    "it does not.",
        evaluate=evaluate,
    )]
