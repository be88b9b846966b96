"""The built-in resources_check rule: the first fiscal year's budget against the
estimated cost. A shortfall keeps the round PENDING, never REJECTED."""

from __future__ import annotations

from decimal import Decimal

import pytest

from spm_api.plugins.builtin import BUILTIN_PLUGINS
from spm_api.plugins.builtin.approvals import resources_check
from spm_api.plugins.contracts import APPROVAL_RULES, EVALUATE, Ballot, ServiceFacts, Verdict
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import ApprovalStatus, InvestmentCategory

D = Decimal
APPROVED, PENDING = ApprovalStatus.APPROVED, ApprovalStatus.PENDING


def ballot(cost: str | None, budget: str | None, year: int = 2027,
           currency: str = "EUR") -> Ballot:
    """A proposal costing ``cost`` with ``budget`` in its first fiscal year (None: no
    budget lines at all)."""
    facts = ServiceFacts(
        id=1, organisation_id=1, name="Data Platform",
        investment_category=InvestmentCategory.GROW,
        estimated_cost=None if cost is None else D(cost), currency=currency,
        first_fiscal_year=None if budget is None else year,
        first_year_budget=D(0) if budget is None else D(budget))
    return Ballot(service=facts, decision_makers=(), votes=())


def test_registered_as_its_own_builtin_plugin(plugins: PluginHost) -> None:
    assert BUILTIN_PLUGINS["spm_api.resources_check"] is resources_check
    assert plugins.registry(APPROVAL_RULES)["resources_check"].plugin == "spm_api.resources_check"


def test_a_budget_that_covers_the_cost_approves() -> None:
    assert resources_check.evaluate(ballot("10000", "12000"), {}) == Verdict(
        APPROVED, "the FY2027 budget of 12000.00 EUR covers the estimated cost of 10000.00 EUR")


def test_a_budget_of_exactly_the_cost_approves() -> None:
    assert resources_check.evaluate(ballot("10000.00", "10000"), {}).status is APPROVED


def test_a_short_budget_waits_and_names_the_shortfall() -> None:
    # 10000.00 - 8000.00 = 2000.00 short.
    assert resources_check.evaluate(ballot("10000", "8000"), {}) == Verdict(
        PENDING, "the FY2027 budget of 8000.00 EUR is 2000.00 EUR short of the estimated "
                 "cost of 10000.00 EUR")


def test_amounts_are_in_the_currency_minor_unit() -> None:
    # 2 - 1.5 = 0.500 BHD short (three decimals); 1500000 - 999999.6 → 500000 JPY.
    assert resources_check.evaluate(ballot("2", "1.5", currency="BHD"), {}).explanation == (
        "the FY2027 budget of 1.500 BHD is 0.500 BHD short of the estimated cost of 2.000 BHD")
    assert "is 500000 JPY short of the estimated cost of 1500000 JPY" in (
        resources_check.evaluate(ballot("1500000", "999999.6", currency="JPY"), {}).explanation)


def test_without_a_budget_the_whole_cost_is_short() -> None:
    assert resources_check.evaluate(ballot("10000", None), {}) == Verdict(
        PENDING, "no budget is recorded, so the shortfall is the whole of the estimated cost "
                 "of 10000.00 EUR")


def test_without_an_estimated_cost_the_budget_cannot_be_checked() -> None:
    for budget in (None, "5000"):
        assert resources_check.evaluate(ballot(None, budget), {}) == Verdict(
            PENDING, "no estimated cost is recorded, so the budget cannot be checked")


def test_nothing_to_fund_needs_no_budget() -> None:
    assert resources_check.evaluate(ballot("0", None), {}) == Verdict(
        APPROVED, "the estimated cost of 0.00 EUR needs no budget")


@pytest.mark.parametrize("cost", [None, "0", "1", "10000", "99999999.99"])
@pytest.mark.parametrize("budget", [None, "0", "0.01", "10000", "-5"])
def test_never_rejects(cost: str | None, budget: str | None) -> None:
    assert resources_check.evaluate(ballot(cost, budget), {}).status is not (
        ApprovalStatus.REJECTED)


async def test_through_the_host(plugins: PluginHost) -> None:
    verdict = await plugins.call(EVALUATE, "resources_check", ballot("10000", "8000"), {})
    assert verdict.status is PENDING
    assert "2000.00 EUR short" in verdict.explanation
