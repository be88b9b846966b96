"""Business cases over fiscal years: NPV, payback, ROI and TCO against hand-computed
figures, the organisation's discount rate, realised benefits after LIVE, the approval
round showing the case, and the resources check counting every year the case spans."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from spm_api.domain.strategy.figures import CashFlow, evaluate
from spm_api.vocabulary.enums import Role
from tests.support import Org, Portfolio

D = Decimal


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


def year(fiscal_year: int, investment: str, running: str, benefit: str) -> dict[str, Any]:
    return {"fiscalYear": fiscal_year, "investment": eur(investment),
            "runningCost": eur(running), "benefit": eur(benefit)}


#: The worked example of docs/strategy.md: 100000 invested in FY2027, then three years
#: of 10000 running cost for 50000, 60000 and 60000 of benefit; discounted at 10%.
WORKED = [year(2027, "100000.00", "0.00", "0.00"), year(2028, "0.00", "10000.00", "50000.00"),
          year(2029, "0.00", "10000.00", "60000.00"),
          year(2030, "0.00", "10000.00", "60000.00")]
#: A case that never pays back: 100000 invested, 5000 a year to run, 20000 a year of
#: benefit over three years; at the default rate of 8%.
NEVER = [year(2027, "100000.00", "5000.00", "20000.00"),
         year(2028, "0.00", "5000.00", "20000.00"), year(2029, "0.00", "5000.00", "20000.00")]

CASE_FIELDS = """
  discountRate npv { amount currency } totalCostOfOwnership { amount } totalBenefit { amount }
  roi paybackYears paybackFiscalYear paysBack
  years { fiscalYear investment { amount } runningCost { amount } benefit { amount }
          netCashFlow { amount } presentValue { amount } cumulativeNetCashFlow { amount } }
  realisation { fiscalYear expected { amount } realised { amount } variance { amount } note }
  realisedTotal { amount }
"""
SET_CASE = """
mutation($input: SetBusinessCaseInput!) {
  setBusinessCase(input: $input) {
    service { estimatedCost { amount } expectedBenefit { amount } businessCase {""" + (
    CASE_FIELDS) + """} }
    errors { code field message }
  }
}"""
READ_CASE = """
query($id: ID!) { node(id: $id) { ... on Service { stage businessCase {""" + CASE_FIELDS + (
    """} } } }""")
SET_RATE = """
mutation($rate: String!) { setDiscountRate(input: {rate: $rate}) {
  strategy { discountRate } errors { code field message } } }"""
REALISE = """
mutation($input: RecordRealisedBenefitInput!) {
  recordRealisedBenefit(input: $input) {
    service { businessCase { realisation { fiscalYear expected { amount }
      realised { amount } variance { amount } note } realisedTotal { amount } } }
    errors { code field message }
  }
}"""
SET_BUDGET = """
mutation($input: SetBudgetLineInput!) {
  setBudgetLine(input: $input) { errors { code field message } } }"""
SET_RULES = """
mutation($rules: [String!]!) { setApprovalRules(input: {rules: $rules}) { errors { code } } }"""
ROUND = """
query($id: ID!) { node(id: $id) { ... on Service {
  approval { status verdicts { rule status explanation }
             businessCase { npv { amount } paybackYears years { fiscalYear } } } } } }"""


# --- the figures, worked by hand ---------------------------------------------------

def flows(rows: list[tuple[int, str, str, str]]) -> list[CashFlow]:
    return [CashFlow(fy, D(i), D(r), D(b)) for fy, i, r, b in rows]


def test_npv_payback_roi_and_tco_of_the_worked_example() -> None:
    # Net cash flows: -100000, 40000, 50000, 50000. Discounted at 10%:
    # 40000 / 1.1 = 36363.6364, 50000 / 1.21 = 41322.3140, 50000 / 1.331 = 37565.7400;
    # NPV = -100000 + 115251.6904 = 15251.6904 → 15251.69 (rounded once, half-up).
    found = evaluate(flows([(2027, "100000", "0", "0"), (2028, "0", "10000", "50000"),
                            (2029, "0", "10000", "60000"), (2030, "0", "10000", "60000")]),
                     D("0.10"), "EUR")
    assert found.npv == D("15251.69")
    assert [y.present_value for y in found.years] == [
        D("-100000.00"), D("36363.64"), D("41322.31"), D("37565.74")]
    # TCO = 100000 + 3 * 10000 = 130000; benefit 170000; ROI = 40000 / 130000 = 0.30769…
    assert (found.total_cost_of_ownership, found.total_benefit) == (D("130000.00"),
                                                                    D("170000.00"))
    assert found.roi == D("0.3077")
    # Cumulative: -100000, -60000, -10000, +40000: in the fourth year (FY2030) the
    # 10000 left is paid back in 10000 / 50000 = 0.2 of it: 3 + 0.2 = 3.20 years.
    assert [y.cumulative for y in found.years] == [D(-100000), D(-60000), D(-10000),
                                                   D(40000)]
    assert (found.payback_years, found.payback_fiscal_year) == (D("3.20"), 2030)


def test_a_case_that_never_pays_back() -> None:
    # Net -85000, 15000, 15000 at 8%: 15000 / 1.08 = 13888.8889, 15000 / 1.1664 =
    # 12860.0823; NPV = -85000 + 26748.9712 = -58251.0288 → -58251.03.
    found = evaluate(flows([(2027, "100000", "5000", "20000"), (2028, "0", "5000", "20000"),
                            (2029, "0", "5000", "20000")]), D("0.08"), "EUR")
    assert found.npv == D("-58251.03")
    # ROI = (60000 - 115000) / 115000 = -0.478260… → -0.4783.
    assert found.roi == D("-0.4783")
    assert found.payback_years is None and found.payback_fiscal_year is None


def test_edges_of_payback_and_roi() -> None:
    # Benefit from the first year on: nothing to pay back.
    assert evaluate(flows([(2027, "0", "100", "500")]), D("0.08"), "EUR").payback_years == (
        D("0.00"))
    # Paid back exactly at the end of the second year: 1 + 50 / 50 = 2.00.
    exact = evaluate(flows([(2027, "100", "0", "50"), (2028, "0", "0", "50")]), D("0"), "EUR")
    assert (exact.payback_years, exact.payback_fiscal_year, exact.npv) == (D("2.00"), 2028,
                                                                            D("0.00"))
    # Nothing spent: no ROI (not a division by zero).
    assert evaluate(flows([(2027, "0", "0", "10")]), D("0.08"), "EUR").roi is None
    # A currency without minor units rounds the NPV to whole yen: -1000 + 500 / 1.03 =
    # -514.5631 → -515.
    assert evaluate(flows([(2027, "1000", "0", "0"), (2028, "0", "0", "500")]), D("0.03"),
                    "JPY").npv == D("-515")


# --- over GraphQL ------------------------------------------------------------------

async def set_case(portfolio: Portfolio, service_id: str, years: list[dict[str, Any]],
                   role: Role = Role.CONTRIBUTOR, **extra: Any) -> dict[str, Any]:
    data = await portfolio.api.data(SET_CASE, {"input": {
        "serviceId": service_id, "years": years, **extra}}, portfolio.org.token(role))
    payload: dict[str, Any] = data["setBusinessCase"]
    return payload


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(error["code"], error["field"]) for error in payload["errors"]]


async def test_a_case_over_graphql_shows_its_figures(portfolio: Portfolio, org: Org) -> None:
    service = (await portfolio.create("Data Platform"))["id"]
    rate = await portfolio.api.data(SET_RATE, {"rate": "0.10"}, org.token(Role.FINANCE))
    assert rate["setDiscountRate"] == {"strategy": {"discountRate": "0.1000"}, "errors": []}
    payload = await set_case(portfolio, service, WORKED)
    assert payload["errors"] == []
    case = payload["service"]["businessCase"]
    assert case["npv"] == {"amount": "15251.69", "currency": "EUR"}
    assert case["totalCostOfOwnership"] == {"amount": "130000.00"}
    assert case["totalBenefit"] == {"amount": "170000.00"}
    assert (case["roi"], case["paybackYears"], case["paybackFiscalYear"], case["paysBack"]) == (
        "0.3077", "3.20", 2030, True)
    assert [y["presentValue"]["amount"] for y in case["years"]] == [
        "-100000.00", "36363.64", "41322.31", "37565.74"]
    assert [y["cumulativeNetCashFlow"]["amount"] for y in case["years"]] == [
        "-100000.00", "-60000.00", "-10000.00", "40000.00"]
    # The single estimates are the case's totals now.
    assert payload["service"]["estimatedCost"] == {"amount": "130000.00"}
    assert payload["service"]["expectedBenefit"] == {"amount": "170000.00"}


async def test_the_discount_rate_moves_the_npv_and_a_case_can_never_pay_back(
        portfolio: Portfolio, org: Org) -> None:
    service = (await portfolio.create("Kiosk"))["id"]
    case = (await set_case(portfolio, service, NEVER))["service"]["businessCase"]
    # The default rate, 8%: hand-computed above as -58251.03.
    assert (case["discountRate"], case["npv"]["amount"]) == ("0.0800", "-58251.03")
    assert (case["paysBack"], case["paybackYears"], case["paybackFiscalYear"]) == (
        False, None, None)
    assert case["roi"] == "-0.4783"
    await portfolio.api.data(SET_RATE, {"rate": "0"}, org.token(Role.ADMIN))
    read = await portfolio.api.data(READ_CASE, {"id": service}, org.token(Role.VIEWER))
    # Undiscounted: -85000 + 15000 + 15000.
    assert read["node"]["businessCase"]["npv"]["amount"] == "-55000.00"


async def test_bad_cases_are_refused_with_codes_and_nothing_is_written(
        portfolio: Portfolio, org: Org, other_org: Org) -> None:
    service = (await portfolio.create("Data Platform"))["id"]
    assert (await set_case(portfolio, service, WORKED))["errors"] == []
    gap = [year(2027, "1.00", "0.00", "0.00"), year(2029, "0.00", "0.00", "5.00")]
    assert codes(await set_case(portfolio, service, gap)) == [("VALIDATION", "years")]
    twice = [year(2027, "1.00", "0.00", "0.00"), year(2027, "0.00", "0.00", "5.00")]
    assert codes(await set_case(portfolio, service, twice)) == [("VALIDATION", "years")]
    assert codes(await set_case(portfolio, service, [])) == [("VALIDATION", "years")]
    negative = [year(2027, "-1.00", "0.00", "0.00")]
    assert codes(await set_case(portfolio, service, negative)) == [
        ("VALIDATION", "years.0.investment")]
    dollars = [{**year(2027, "1.00", "0.00", "0.00"),
                "benefit": {"amount": "5.00", "currency": "USD"}}]
    assert codes(await set_case(portfolio, service, dollars)) == [
        ("CURRENCY_MISMATCH", "years.0.benefit")]
    too_fine = [year(2027, "1.001", "0.00", "0.00")]
    assert codes(await set_case(portfolio, service, too_fine)) == [
        ("VALIDATION", "years.0.investment")]
    huge = [year(2027 + n, "99999999999999.00", "0.00", "0.00") for n in range(2)]
    assert codes(await set_case(portfolio, service, huge)) == [("VALIDATION", "years")]
    forbidden = await set_case(portfolio, service, WORKED[:1], role=Role.VIEWER)
    assert [error["code"] for error in forbidden["errors"]] == ["FORBIDDEN"]
    stale = await set_case(portfolio, service, WORKED[:1], expectedVersion=1)
    assert codes(stale) == [("CONFLICT", "expectedVersion")]
    stranger = await portfolio.api.data(SET_CASE, {"input": {
        "serviceId": service, "years": WORKED[:1]}}, other_org.token(Role.ADMIN))
    assert codes(stranger["setBusinessCase"]) == [("NOT_FOUND", "serviceId")]
    # The single estimates are the case's: changing them directly is refused.
    direct = await portfolio.api.data("""mutation($id: ID!) { updateService(input: {
        serviceId: $id, estimatedCost: {amount: "1.00", currency: "EUR"}}) {
        errors { code field } } }""", {"id": service}, org.token(Role.CONTRIBUTOR))
    assert codes(direct["updateService"]) == [("VALIDATION", "estimatedCost")]
    read = await portfolio.api.data(READ_CASE, {"id": service}, org.token(Role.VIEWER))
    assert [y["fiscalYear"] for y in read["node"]["businessCase"]["years"]] == [
        2027, 2028, 2029, 2030]
    bad_rate = await portfolio.api.data(SET_RATE, {"rate": "1.5"}, org.token(Role.FINANCE))
    assert codes(bad_rate["setDiscountRate"]) == [("VALIDATION", "discountRate")]
    not_finance = await portfolio.api.data(SET_RATE, {"rate": "0.05"},
                                           org.token(Role.PORTFOLIO_MANAGER))
    assert [e["code"] for e in not_finance["setDiscountRate"]["errors"]] == ["FORBIDDEN"]


async def test_the_case_is_locked_from_approval_and_realised_after_live(
        portfolio: Portfolio, org: Org) -> None:
    service, requirements = await portfolio.in_analysis("Data Platform")
    assert (await set_case(portfolio, service, WORKED))["errors"] == []
    early = await portfolio.api.data(REALISE, {"input": {
        "serviceId": service, "fiscalYear": 2028, "amount": eur("1.00")}},
        org.token(Role.FINANCE))
    assert codes(early["recordRealisedBenefit"]) == [("STAGE_LOCKED", "serviceId")]
    for requirement in requirements:
        await portfolio.assess(requirement)
    await portfolio.add_input(service)
    assert (await portfolio.transition(service, "APPROVAL"))["errors"] == []
    locked = await set_case(portfolio, service, WORKED[:1])
    assert codes(locked) == [("STAGE_LOCKED", "serviceId")]
    # The approval round shows the case the decision makers vote on, at the default 8%:
    # -100000 + 40000 / 1.08 + 50000 / 1.1664 + 50000 / 1.259712 = 19595.59.
    shown = await portfolio.api.data(ROUND, {"id": service}, org.token(Role.DECISION_MAKER))
    assert shown["node"]["approval"]["businessCase"] == {
        "npv": {"amount": "19595.59"}, "paybackYears": "3.20",
        "years": [{"fiscalYear": 2027}, {"fiscalYear": 2028}, {"fiscalYear": 2029},
                  {"fiscalYear": 2030}]}
    await portfolio.vote(service, "APPROVE", org.token(Role.DECISION_MAKER))
    assert (await portfolio.transition(service, "CHARTERED", "go"))["errors"] == []
    assert (await portfolio.transition(service, "LIVE"))["errors"] == []

    async def realise(fiscal_year: int, amount: str, note: str = "",
                      role: Role = Role.FINANCE) -> dict[str, Any]:
        data = await portfolio.api.data(REALISE, {"input": {
            "serviceId": service, "fiscalYear": fiscal_year, "amount": eur(amount),
            "note": note}}, org.token(role))
        payload: dict[str, Any] = data["recordRealisedBenefit"]
        return payload

    assert (await realise(2028, "42000.00", "first full year"))["errors"] == []
    again = await realise(2028, "45000.00", "after the audit")
    assert again["errors"] == []
    case = again["service"]["businessCase"]
    assert case["realisation"][:2] == [
        {"fiscalYear": 2027, "expected": {"amount": "0.00"}, "realised": None,
         "variance": None, "note": ""},
        {"fiscalYear": 2028, "expected": {"amount": "50000.00"},
         "realised": {"amount": "45000.00"}, "variance": {"amount": "-5000.00"},
         "note": "after the audit"}]
    assert case["realisedTotal"] == {"amount": "45000.00"}
    # A year past the case is compared with an expectation of 0.
    beyond = await realise(2031, "70000.00")
    assert beyond["service"]["businessCase"]["realisation"][-1] == {
        "fiscalYear": 2031, "expected": {"amount": "0.00"}, "realised": {"amount": "70000.00"},
        "variance": {"amount": "70000.00"}, "note": ""}
    assert [e["code"] for e in (await realise(2029, "1.00", role=Role.CONTRIBUTOR))[
        "errors"]] == ["FORBIDDEN"]
    assert codes(await realise(2029, "-1.00")) == [("VALIDATION", "amount")]
    assert codes(await realise(99999, "1.00")) == [("VALIDATION", "fiscalYear")]


RESOURCES = ["majority", "resources_check"]


async def budget(portfolio: Portfolio, service: str, period: str, amount: str) -> None:
    data = await portfolio.api.data(SET_BUDGET, {"input": {
        "serviceId": service, "period": period, "category": "labour", "amount": eur(amount)}},
        portfolio.org.token(Role.FINANCE))
    assert data["setBudgetLine"]["errors"] == []


async def test_the_resources_check_counts_every_year_of_the_case(
        portfolio: Portfolio, org: Org) -> None:
    await portfolio.api.data(SET_RULES, {"rules": RESOURCES}, org.token(Role.ADMIN))
    service, requirements = await portfolio.in_analysis("Data Platform")
    case = [year(2027, "100000.00", "0.00", "0.00"), year(2028, "0.00", "10000.00", "50000.00"),
            year(2029, "0.00", "10000.00", "60000.00")]
    assert (await set_case(portfolio, service, case))["errors"] == []
    # The first year is covered in full, which was all the check used to look at.
    await budget(portfolio, service, "2027-01", "60000.00")
    await budget(portfolio, service, "2027-06", "40000.00")
    await budget(portfolio, service, "2028-03", "4000.00")
    for requirement in requirements:
        await portfolio.assess(requirement)
    await portfolio.add_input(service)
    assert (await portfolio.transition(service, "APPROVAL"))["errors"] == []
    voted = await portfolio.vote(service, "APPROVE", org.token(Role.DECISION_MAKER))
    assert voted["approval"]["status"] == "PENDING"
    verdict = {v["rule"]: v for v in voted["approval"]["verdicts"]}["resources_check"]
    assert verdict == {"rule": "resources_check", "status": "PENDING", "explanation": (
        "the budget is short of the business case in 2 of its 3 fiscal years (FY2028: "
        "4000.00 EUR budgeted for 10000.00 EUR, 6000.00 EUR short; FY2029: 0.00 EUR "
        "budgeted for 10000.00 EUR, 10000.00 EUR short)")}
    refused = await portfolio.transition(service, "CHARTERED", "go")
    assert [e["code"] for e in refused["errors"]] == ["APPROVAL_REQUIRED"]
    await budget(portfolio, service, "2028-04", "6000.00")
    await budget(portfolio, service, "2029-12", "10000.00")
    read = await portfolio.api.data(ROUND, {"id": service}, org.token(Role.VIEWER))
    approval = read["node"]["approval"]
    assert approval["status"] == "APPROVED", approval["verdicts"]
    checked = {v["rule"]: v for v in approval["verdicts"]}["resources_check"]
    assert checked["explanation"] == (
        "the budget covers the business case in every one of its 3 fiscal years (FY2027: "
        "100000.00 EUR budgeted for 100000.00 EUR; FY2028: 10000.00 EUR budgeted for "
        "10000.00 EUR; FY2029: 10000.00 EUR budgeted for 10000.00 EUR)")
    assert (await portfolio.transition(service, "CHARTERED", "go"))["errors"] == []


async def test_another_organisation_sees_no_case(portfolio: Portfolio, org: Org,
                                                 other_org: Org) -> None:
    service = (await portfolio.create("Data Platform"))["id"]
    await set_case(portfolio, service, WORKED)
    read = await portfolio.api.data(READ_CASE, {"id": service}, other_org.token(Role.ADMIN))
    assert read["node"] is None
    realise = await portfolio.api.data(REALISE, {"input": {
        "serviceId": service, "fiscalYear": 2028, "amount": eur("1.00")}},
        other_org.token(Role.FINANCE))
    assert codes(realise["recordRealisedBenefit"]) == [("NOT_FOUND", "serviceId")]


@pytest.mark.parametrize("rate", ["abc", "-0.01", "0.12345"])
async def test_a_discount_rate_must_be_a_fraction(portfolio: Portfolio, org: Org,
                                                  rate: str) -> None:
    data = await portfolio.api.data(SET_RATE, {"rate": rate}, org.token(Role.FINANCE))
    assert codes(data["setDiscountRate"]) == [("VALIDATION", "discountRate")]
    strategy = await portfolio.api.data("{ strategy { discountRate } }", None,
                                        org.token(Role.VIEWER))
    assert strategy["strategy"]["discountRate"] == "0.0800"
