"""The ``resources_check`` approval rule: is the proposal's estimated cost covered by its
first fiscal year's budget? It never rejects: a shortfall is fixed by budgeting, and must
not kill a proposal the decision makers want; until it is fixed the round waits."""

from __future__ import annotations

from decimal import Decimal

from spm_api.plugins.contracts import ApprovalRule, Ballot, Settings, Verdict
from spm_api.plugins.markers import hookimpl
from spm_api.vocabulary.enums import ApprovalStatus
from spm_api.vocabulary.money import rounded

RULE_NAME = "resources_check"


def _money(amount: Decimal, currency: str) -> str:
    """``8000.00 EUR``: rounded to the currency's minor unit, code after."""
    return f"{format(rounded(amount, currency), 'f')} {currency}"


def evaluate(ballot: Ballot, _settings: Settings) -> Verdict:
    """APPROVED when the first year's budget covers the estimated cost, otherwise
    PENDING saying what is missing."""
    service = ballot.service
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


@hookimpl
def spm_approval_rules() -> list[ApprovalRule]:
    return [ApprovalRule(
        name=RULE_NAME,
        title="Resources check",
        description="Approved when the budget of the service's first fiscal year covers "
                    "its estimated cost; pending, never rejected, while it does not.",
        evaluate=evaluate,
    )]
