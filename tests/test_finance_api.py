"""Finance over GraphQL: budgets, costs, usage, charging runs (dry run and issue),
closed months, adjustments, currency refusal, roles and the reports."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.engine import create_session_factory
from spm_api.models import Statement
from spm_api.models.portfolio import ImmutableRecordError
from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org, Portfolio

#: Also run through PgBouncer in transaction mode (tests/conftest.py).
pytestmark = [pytest.mark.asyncio, pytest.mark.pgbouncer]

CREATE_CUSTOMER = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id name kind } errors { code field message } }
}"""
SET_BUDGET = """
mutation($input: SetBudgetLineInput!) {
  setBudgetLine(input: $input) {
    budgetLine { id period category amount { amount currency } }
    errors { code field message }
  }
}"""
RECORD_COST = """
mutation($input: RecordCostInput!) {
  recordCost(input: $input) {
    costEntry { id period category amount { amount currency } source }
    errors { code field message }
  }
}"""
RECORD_USAGE = """
mutation($input: RecordUsageInput!) {
  recordUsage(input: $input) { usageRecord { quantity unit } errors { code field message } }
}"""
SET_POLICY = """
mutation($input: SetChargingPolicyInput!) {
  setChargingPolicy(input: $input) {
    chargingPolicy { model parameters } errors { code field message }
  }
}"""
RUN_FIELDS = """
  period issued total { amount currency } notionalTotal { amount } actualCost { amount }
  statements { customer { name } total { amount } notionalTotal { amount }
               lines { model amount { amount } billed description correctsPeriod
                       service { name } } }
"""
DRY_RUN = "query($period: String!) { chargingRun(period: $period) {" + RUN_FIELDS + "} }"
ISSUE = """
mutation($period: String!) {
  issueStatements(input: {period: $period}) {
    run {""" + RUN_FIELDS + """}
    statements { id period closedAt customer { name } total { amount } }
    errors { code field message }
  }
}"""
STATEMENTS = """
query($period: String!) {
  statements(period: $period) {
    id closedAt customer { name } total { amount currency }
    lines { model amount { amount } billed correctsPeriod }
  }
}"""
CLOSE = """
mutation($period: String!) {
  closePeriod(input: {period: $period}) { period closedAt errors { code field message } }
}"""
ADJUST = """
mutation($input: AddChargeAdjustmentInput!) {
  addChargeAdjustment(input: $input) {
    adjustment { amount { amount } correctsPeriod } errors { code field message }
  }
}"""


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


class Books:
    """A finance person's moves over GraphQL."""

    def __init__(self, api: GraphQLClient, org: Org) -> None:
        self.api = api
        self.org = org
        self.token = org.token(Role.FINANCE)

    async def call(self, query: str, variables: dict[str, Any], field: str,
                   token: str | None = None) -> dict[str, Any]:
        data = await self.api.data(query, variables, token or self.token)
        payload: dict[str, Any] = data[field]
        return payload

    async def ok(self, query: str, variables: dict[str, Any], field: str) -> dict[str, Any]:
        payload = await self.call(query, variables, field)
        assert payload["errors"] == [], payload["errors"]
        return payload

    async def customer(self, name: str) -> str:
        payload = await self.ok(CREATE_CUSTOMER, {"input": {
            "name": name, "kind": "INTERNAL_DEPARTMENT"}}, "createCustomer")
        customer_id: str = payload["customer"]["id"]
        return customer_id

    async def cost(self, service_id: str, day: str, amount: str,
                   category: str = "labour") -> dict[str, Any]:
        return await self.ok(RECORD_COST, {"input": {
            "serviceId": service_id, "bookedOn": day, "category": category,
            "amount": eur(amount), "description": "invoice"}}, "recordCost")

    async def usage(self, customer_id: str, service_id: str, period: str, quantity: str,
                    unit: str = "GB") -> None:
        await self.ok(RECORD_USAGE, {"input": {
            "customerId": customer_id, "serviceId": service_id, "period": period,
            "quantity": quantity, "unit": unit}}, "recordUsage")

    async def policy(self, service_id: str, model: str, parameters: dict[str, Any]
                     ) -> dict[str, Any]:
        return await self.call(SET_POLICY, {"input": {
            "serviceId": service_id, "model": model, "parameters": parameters}},
            "setChargingPolicy")


@pytest.fixture
def books(api: GraphQLClient, org: Org) -> Books:
    return Books(api, org)


async def _recovered_service(portfolio: Portfolio, books: Books) -> tuple[str, list[str]]:
    """A service costing 100.00 EUR in 2026-03, used equally by three departments and
    charged by cost recovery."""
    service_id = (await portfolio.create("Hosting"))["id"]
    customers = [await books.customer(name) for name in ("Sales", "Legal", "Ops")]
    await books.cost(service_id, "2026-03-05", "60.00")
    await books.cost(service_id, "2026-03-20", "40.00", "hardware")
    for customer_id in customers:
        await books.usage(customer_id, service_id, "2026-03", "10")
    assert (await books.policy(service_id, "cost_recovery", {}))["errors"] == []
    return service_id, customers


async def test_dry_run_computes_without_saving_and_issue_saves(
        portfolio: Portfolio, books: Books, org: Org) -> None:
    await _recovered_service(portfolio, books)
    dry = (await books.api.data(DRY_RUN, {"period": "2026-03"},
                                org.token(Role.VIEWER)))["chargingRun"]
    assert dry["issued"] is False
    assert dry["total"] == {"amount": "100.00", "currency": "EUR"}
    assert dry["actualCost"] == {"amount": "100.00"}
    amounts = sorted(s["total"]["amount"] for s in dry["statements"])
    # 100.00 / 3 = 33.333…: one customer takes the remaining cent, the sum is exact.
    assert amounts == ["33.33", "33.33", "33.34"]
    listed = await books.api.data(STATEMENTS, {"period": "2026-03"}, books.token)
    assert listed["statements"] == []

    issued = await books.ok(ISSUE, {"period": "2026-03"}, "issueStatements")
    assert issued["run"]["issued"] is True
    assert issued["run"]["statements"] == dry["statements"]
    saved = (await books.api.data(STATEMENTS, {"period": "2026-03"},
                                  org.token(Role.VIEWER)))["statements"]
    assert sorted(s["customer"]["name"] for s in saved) == ["Legal", "Ops", "Sales"]
    assert sum(float(s["total"]["amount"]) for s in saved) == pytest.approx(100.00)
    assert all(s["closedAt"] is None for s in saved)
    assert all(line["model"] == "cost_recovery" for s in saved for line in s["lines"])


async def test_reissuing_an_open_month_replaces_its_statements(
        portfolio: Portfolio, books: Books) -> None:
    service_id, _ = await _recovered_service(portfolio, books)
    await books.ok(ISSUE, {"period": "2026-03"}, "issueStatements")
    await books.cost(service_id, "2026-03-28", "50.00")
    await books.ok(ISSUE, {"period": "2026-03"}, "issueStatements")
    saved = (await books.api.data(STATEMENTS, {"period": "2026-03"},
                                  books.token))["statements"]
    assert len(saved) == 3
    assert sorted(s["total"]["amount"] for s in saved) == ["50.00", "50.00", "50.00"]


async def test_a_closed_month_never_changes_and_is_corrected_later(
        portfolio: Portfolio, books: Books) -> None:
    service_id, customers = await _recovered_service(portfolio, books)
    await books.ok(ISSUE, {"period": "2026-03"}, "issueStatements")
    closed = await books.ok(CLOSE, {"period": "2026-03"}, "closePeriod")
    assert closed["period"] == "2026-03" and closed["closedAt"]
    before = (await books.api.data(STATEMENTS, {"period": "2026-03"},
                                   books.token))["statements"]
    assert all(s["closedAt"] for s in before)

    refused = await books.call(ISSUE, {"period": "2026-03"}, "issueStatements")
    assert [e["code"] for e in refused["errors"]] == ["PERIOD_CLOSED"]
    late_cost = await books.call(RECORD_COST, {"input": {
        "serviceId": service_id, "bookedOn": "2026-03-30", "category": "labour",
        "amount": eur("10.00")}}, "recordCost")
    assert [(e["code"], e["field"]) for e in late_cost["errors"]] == [
        ("PERIOD_CLOSED", "bookedOn")]
    late_usage = await books.call(RECORD_USAGE, {"input": {
        "customerId": customers[0], "serviceId": service_id, "period": "2026-03",
        "quantity": "1", "unit": "GB"}}, "recordUsage")
    assert [e["code"] for e in late_usage["errors"]] == ["PERIOD_CLOSED"]
    again = await books.call(CLOSE, {"period": "2026-03"}, "closePeriod")
    assert [e["code"] for e in again["errors"]] == ["PERIOD_CLOSED"]
    after = (await books.api.data(STATEMENTS, {"period": "2026-03"},
                                  books.token))["statements"]
    assert after == before

    # The correction is an adjustment line on a later, open month's statement.
    into_closed = await books.call(ADJUST, {"input": {
        "customerId": customers[0], "serviceId": service_id, "correctsPeriod": "2026-03",
        "period": "2026-03", "amount": eur("-5.00"), "reason": "overcharged"}},
        "addChargeAdjustment")
    assert [e["field"] for e in into_closed["errors"]] == ["period"]
    adjusted = await books.ok(ADJUST, {"input": {
        "customerId": customers[0], "serviceId": service_id, "correctsPeriod": "2026-03",
        "period": "2026-04", "amount": eur("-5.00"), "reason": "overcharged"}},
        "addChargeAdjustment")
    assert adjusted["adjustment"] == {"amount": {"amount": "-5.00"},
                                      "correctsPeriod": "2026-03"}
    april = await books.ok(ISSUE, {"period": "2026-04"}, "issueStatements")
    [statement] = april["run"]["statements"]
    assert statement["total"] == {"amount": "-5.00"}
    [line] = statement["lines"]
    assert (line["model"], line["correctsPeriod"]) == ("adjustment", "2026-03")
    assert (await books.api.data(STATEMENTS, {"period": "2026-03"},
                                 books.token))["statements"] == before


async def test_an_open_month_cannot_be_adjusted(portfolio: Portfolio, books: Books) -> None:
    service_id, customers = await _recovered_service(portfolio, books)
    refused = await books.call(ADJUST, {"input": {
        "customerId": customers[0], "serviceId": service_id, "correctsPeriod": "2026-03",
        "period": "2026-04", "amount": eur("1.00"), "reason": "x"}}, "addChargeAdjustment")
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("VALIDATION", "correctsPeriod")]


async def test_amounts_in_another_currency_are_refused(portfolio: Portfolio,
                                                       books: Books) -> None:
    service_id = (await portfolio.create("Hosting"))["id"]
    budget = await books.call(SET_BUDGET, {"input": {
        "serviceId": service_id, "period": "2026-01", "category": "software",
        "amount": {"amount": "100", "currency": "USD"}}}, "setBudgetLine")
    [error] = budget["errors"]
    assert (error["code"], error["field"]) == ("CURRENCY_MISMATCH", "amount")
    assert "USD" in error["message"] and "EUR" in error["message"]
    cost = await books.call(RECORD_COST, {"input": {
        "serviceId": service_id, "bookedOn": "2026-01-02", "category": "labour",
        "amount": {"amount": "5", "currency": "gbp"}}}, "recordCost")
    assert [e["code"] for e in cost["errors"]] == ["CURRENCY_MISMATCH"]
    bogus = await books.call(RECORD_COST, {"input": {
        "serviceId": service_id, "bookedOn": "2026-01-02", "category": "labour",
        "amount": {"amount": "5", "currency": "EURO"}}}, "recordCost")
    assert [(e["code"], e["field"]) for e in bogus["errors"]] == [
        ("VALIDATION", "amount.currency")]
    read = await books.api.data(
        "query($id: ID!) { service(id: $id) { budgetLines { id } } }", {"id": service_id},
        books.token)
    assert read["service"]["budgetLines"] == []


async def test_only_finance_and_admin_change_the_books(portfolio: Portfolio, books: Books,
                                                       org: Org) -> None:
    service_id = (await portfolio.create("Hosting"))["id"]
    variables = {"input": {"serviceId": service_id, "period": "2026-01",
                           "category": "software", "amount": eur("100.00")}}
    for role in (Role.VIEWER, Role.CONTRIBUTOR, Role.DECISION_MAKER,
                 Role.PORTFOLIO_MANAGER):
        refused = await books.call(SET_BUDGET, variables, "setBudgetLine", org.token(role))
        assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"], role
        issued = await books.call(ISSUE, {"period": "2026-01"}, "issueStatements",
                                  org.token(role))
        assert [e["code"] for e in issued["errors"]] == ["FORBIDDEN"], role
    for role in (Role.FINANCE, Role.ADMIN):
        done = await books.call(SET_BUDGET, variables, "setBudgetLine", org.token(role))
        assert done["errors"] == [], role
        assert done["budgetLine"]["amount"] == {"amount": "100.00", "currency": "EUR"}
    report = await books.api.data(
        """{ reports { budgetVsActual(fromPeriod: "2026-01", toPeriod: "2026-12",
             groupBy: [SERVICE]) { rows { service { name } budget { amount } } } } }""",
        token=org.token(Role.VIEWER))
    assert report["reports"]["budgetVsActual"]["rows"] == [
        {"service": {"name": "Hosting"}, "budget": {"amount": "100.00"}}]


async def test_a_policy_is_validated_by_its_model(portfolio: Portfolio, books: Books) -> None:
    service_id = (await portfolio.create("Hosting"))["id"]
    unknown = await books.policy(service_id, "pay_what_you_want", {})
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("VALIDATION", "model")]
    bad = await books.policy(service_id, "cost_plus", {"markup_percent": "lots"})
    [error] = bad["errors"]
    assert (error["code"], error["field"]) == ("VALIDATION", "parameters")
    assert "markup_percent" in error["message"]
    good = await books.policy(service_id, "cost_plus", {"markup_percent": 10})
    assert good["chargingPolicy"] == {"model": "cost_plus",
                                      "parameters": {"markup_percent": "10"}}


async def test_budget_vs_actual_reports_variance_per_service_category_and_month(
        portfolio: Portfolio, books: Books) -> None:
    service_id = (await portfolio.create("Hosting"))["id"]
    for period, amount in (("2026-01", "1000.00"), ("2026-02", "1000.00")):
        await books.ok(SET_BUDGET, {"input": {
            "serviceId": service_id, "period": period, "category": "labour",
            "amount": eur(amount)}}, "setBudgetLine")
    await books.cost(service_id, "2026-01-10", "1200.50")
    await books.cost(service_id, "2026-02-10", "300.00", "software")
    report = (await books.api.data("""{ reports { budgetVsActual(
        fromPeriod: "2026-01", toPeriod: "2026-02", groupBy: [SERVICE, CATEGORY, PERIOD]) {
          rows { service { name } category period budget { amount } actual { amount }
                 variance { amount } variancePercent }
          total { budget { amount } actual { amount } variance { amount } } } } }""",
        token=books.token))["reports"]["budgetVsActual"]
    rows = {(r["category"], r["period"]): r for r in report["rows"]}
    assert set(rows) == {("labour", "2026-01"), ("labour", "2026-02"),
                         ("software", "2026-02")}
    january = rows["labour", "2026-01"]
    assert (january["budget"]["amount"], january["actual"]["amount"],
            january["variance"]["amount"], january["variancePercent"]) == (
        "1000.00", "1200.50", "-200.50", "-20.05")
    assert rows["software", "2026-02"]["variancePercent"] is None
    assert report["total"] == {"budget": {"amount": "2000.00"},
                               "actual": {"amount": "1500.50"},
                               "variance": {"amount": "499.50"}}


async def test_cost_recovery_and_charges_per_customer(portfolio: Portfolio,
                                                      books: Books) -> None:
    await _recovered_service(portfolio, books)
    await books.ok(ISSUE, {"period": "2026-03"}, "issueStatements")
    reports = (await books.api.data("""{ reports {
        costRecovery(fromPeriod: "2026-01", toPeriod: "2026-12") {
          service { name } actualCost { amount } charged { amount } rate }
        chargesPerCustomer(fromPeriod: "2026-03", toPeriod: "2026-03") {
          customer { name } billed { amount } statements } } }""",
        token=books.token))["reports"]
    assert reports["costRecovery"] == [{"service": {"name": "Hosting"},
                                        "actualCost": {"amount": "100.00"},
                                        "charged": {"amount": "100.00"}, "rate": "1.0000"}]
    charges = reports["chargesPerCustomer"]
    assert [c["billed"]["amount"] for c in charges] == ["33.34", "33.33", "33.33"]
    assert all(c["statements"] == 1 for c in charges)


async def test_a_bad_report_range_is_a_coded_error(books: Books) -> None:
    body = await books.api.execute("""{ reports { budgetVsActual(
        fromPeriod: "2026-05", toPeriod: "2026-01") { total { budget { amount } } } } }""",
        token=books.token)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION"


RESOURCES = {"rules": ["majority", "resources_check"]}
SET_RULES = """
mutation($rules: [String!]!) { setApprovalRules(input: {rules: $rules}) {
  rules errors { code } } }"""


async def test_the_resources_check_holds_approval_until_the_budget_covers_the_cost(
        portfolio: Portfolio, books: Books, org: Org) -> None:
    chosen = await books.api.data(SET_RULES, RESOURCES, org.token(Role.ADMIN))
    assert chosen["setApprovalRules"]["errors"] == []
    service_id = await portfolio.in_approval()
    await portfolio.api.data("""mutation($id: ID!) { updateService(input: {serviceId: $id,
        estimatedCost: {amount: "10000.00", currency: "EUR"}}) { errors { code } } }""",
                             {"id": service_id}, org.token(Role.CONTRIBUTOR))
    await books.ok(SET_BUDGET, {"input": {"serviceId": service_id, "period": "2026-01",
                                          "category": "labour", "amount": eur("8000.00")}},
                   "setBudgetLine")
    voted = await portfolio.vote(service_id, "APPROVE", org.token(Role.DECISION_MAKER))
    assert voted["approval"]["status"] == "PENDING"
    verdict = {v["rule"]: v for v in voted["approval"]["verdicts"]}["resources_check"]
    assert verdict["status"] == "PENDING"
    assert "2000.00 EUR short" in verdict["explanation"]
    refused = await portfolio.transition(service_id, "CHARTERED", "go")
    assert [e["code"] for e in refused["errors"]] == ["APPROVAL_REQUIRED"]

    # Budget in the same fiscal year (FY2026) closes the gap.
    await books.ok(SET_BUDGET, {"input": {"serviceId": service_id, "period": "2026-07",
                                          "category": "hardware", "amount": eur("2000.00")}},
                   "setBudgetLine")
    approval = (await portfolio.approval(service_id))["approval"]
    assert approval["status"] == "APPROVED", approval["verdicts"]
    assert (await portfolio.transition(service_id, "CHARTERED", "go"))["errors"] == []


async def test_pipeline_ranking_scores_by_the_business_case(portfolio: Portfolio,
                                                            books: Books) -> None:
    strong = (await portfolio.create("Analytics", expectedBenefit=eur("300000"),
                                     estimatedCost=eur("100000")))["id"]
    await portfolio.create("Printing", expectedBenefit=eur("1000"),
                           estimatedCost=eur("100000"))
    ranking = (await books.api.data("""{ reports { pipelineRanking {
        rank score explanation service { id name } } } }""",
        token=books.token))["reports"]["pipelineRanking"]
    assert [row["service"]["name"] for row in ranking] == ["Analytics", "Printing"]
    assert ranking[0]["service"]["id"] == strong
    assert ranking[0]["rank"] == 1 and float(ranking[0]["score"]) > float(ranking[1]["score"])
    body = await books.api.execute('{ reports { pipelineRanking(scoringModel: "nope") '
                                   '{ rank } } }', token=books.token)
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"


COST_ENTRIES = """
query($service: ID, $from: String, $to: String) {
  costEntries(first: 10, serviceId: $service, fromPeriod: $from, toPeriod: $to) {
    totalCount edges { node { bookedOn amount { amount } service { name } } }
  }
}"""


async def test_cost_entries_page_by_service_and_months(portfolio: Portfolio,
                                                      books: Books, org: Org) -> None:
    hosting = (await portfolio.create("Hosting"))["id"]
    payroll = (await portfolio.create("Payroll"))["id"]
    await books.cost(hosting, "2026-01-31", "10.00")
    await books.cost(hosting, "2026-02-01", "20.00")
    await books.cost(payroll, "2026-02-15", "30.00")
    viewer = org.token(Role.VIEWER)
    everything = (await books.api.data(COST_ENTRIES, {}, viewer))["costEntries"]
    assert everything["totalCount"] == 3
    assert [e["node"]["bookedOn"] for e in everything["edges"]] == [
        "2026-02-15", "2026-02-01", "2026-01-31"]
    february = (await books.api.data(COST_ENTRIES, {"service": hosting, "from": "2026-02"},
                                     viewer))["costEntries"]
    assert [e["node"]["amount"]["amount"] for e in february["edges"]] == ["20.00"]
    foreign = (await books.api.data(COST_ENTRIES, {"service": "bm90LWFuLWlk"},
                                    viewer))["costEntries"]
    assert foreign["totalCount"] == 0
    bad = await books.api.execute(COST_ENTRIES, {"to": "2026-13"}, viewer)
    assert bad["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "toPeriod"}


async def test_the_database_layer_refuses_to_change_a_closed_statement(
        portfolio: Portfolio, books: Books, db: AsyncEngine) -> None:
    await _recovered_service(portfolio, books)
    await books.ok(ISSUE, {"period": "2026-03"}, "issueStatements")
    async with create_session_factory(db)() as session:
        statement = await session.scalar(select(Statement).limit(1))
        assert statement is not None
        statement.total += 1  # an open month's statement may still be replaced
        await session.rollback()
    await books.ok(CLOSE, {"period": "2026-03"}, "closePeriod")
    async with create_session_factory(db)() as session:
        statement = await session.scalar(select(Statement).limit(1))
        assert statement is not None and statement.closed_at is not None
        statement.total += 1
        with pytest.raises(ImmutableRecordError):
            await session.flush()
        await session.rollback()
        statement = await session.scalar(select(Statement).limit(1))
        assert statement is not None
        await session.delete(statement)
        with pytest.raises(ImmutableRecordError):
            await session.flush()


async def test_investment_per_category_and_section_in_a_fiscal_year(
        portfolio: Portfolio, books: Books, org: Org) -> None:
    settings = await books.api.data("""mutation { updateOrganisationSettings(input:
        {fiscalYearStartMonth: 4}) { errors { code } } }""", token=org.token(Role.ADMIN))
    assert settings["updateOrganisationSettings"]["errors"] == []
    run = (await portfolio.create("Hosting", estimatedCost=eur("5000"),
                                  expectedBenefit=eur("7000")))["id"]
    grow = (await portfolio.create("Analytics", investmentCategory="GROW",
                                   estimatedCost=eur("9000")))["id"]
    # FY2027 runs from 2026-04 to 2027-03: March 2026 belongs to FY2026.
    for service_id, period, amount in ((run, "2026-03", "100.00"), (run, "2026-04", "200.00"),
                                       (run, "2027-03", "300.00"), (grow, "2026-12", "50.00")):
        await books.ok(SET_BUDGET, {"input": {"serviceId": service_id, "period": period,
                                              "category": "labour", "amount": eur(amount)}},
                       "setBudgetLine")
    await books.cost(run, "2026-05-01", "120.00")
    rows = (await books.api.data("""{ reports { investment(fiscalYear: 2027) {
        investmentCategory section services estimatedCost { amount } expectedBenefit { amount }
        budget { amount } actual { amount } } } }""", token=org.token(Role.VIEWER)))
    assert rows["reports"]["investment"] == [
        {"investmentCategory": "RUN", "section": "PIPELINE", "services": 1,
         "estimatedCost": {"amount": "5000.00"}, "expectedBenefit": {"amount": "7000.00"},
         "budget": {"amount": "500.00"}, "actual": {"amount": "120.00"}},
        {"investmentCategory": "GROW", "section": "PIPELINE", "services": 1,
         "estimatedCost": {"amount": "9000.00"}, "expectedBenefit": {"amount": "0.00"},
         "budget": {"amount": "50.00"}, "actual": {"amount": "0.00"}},
    ]


async def test_budget_vs_actual_lists_services_in_id_order_by_default(
        portfolio: Portfolio, books: Books) -> None:
    created = [(await portfolio.create(f"Service {n:02d}"))["id"] for n in range(1, 12)]
    for service_id in reversed(created):
        await books.ok(SET_BUDGET, {"input": {"serviceId": service_id, "period": "2026-01",
                                              "category": "labour", "amount": eur("1.00")}},
                       "setBudgetLine")
    rows = (await books.api.data("""{ reports { budgetVsActual(fromPeriod: "2026-01",
        toPeriod: "2026-01") { rows { service { id } category period } } } }""",
        token=books.token))["reports"]["budgetVsActual"]["rows"]
    assert [row["service"]["id"] for row in rows] == created  # 1, 2, …, 10, 11: not 1, 10, 11
    assert all(row["category"] is None and row["period"] is None for row in rows)


async def test_budget_vs_actual_by_fiscal_quarter_and_year(portfolio: Portfolio,
                                                          books: Books, org: Org) -> None:
    await books.api.data("""mutation { updateOrganisationSettings(input:
        {fiscalYearStartMonth: 4}) { errors { code } } }""", token=org.token(Role.ADMIN))
    service_id = (await portfolio.create("Hosting"))["id"]
    # With an April start, 2026-03 ends FY2026; 2026-04..06 is FY2027 Q1; 2026-07 is Q2.
    for period, amount in (("2026-03", "1.00"), ("2026-04", "10.00"), ("2026-06", "20.00"),
                           ("2026-07", "40.00")):
        await books.ok(SET_BUDGET, {"input": {"serviceId": service_id, "period": period,
                                              "category": "labour", "amount": eur(amount)}},
                       "setBudgetLine")
    await books.cost(service_id, "2026-05-31", "25.00")

    async def grouped(grain: str) -> list[tuple[str, str, str]]:
        rows = (await books.api.data("""query($grain: ReportDimension!) { reports {
            budgetVsActual(fromPeriod: "2026-01", toPeriod: "2026-12", groupBy: [$grain]) {
              rows { period budget { amount } actual { amount } } } } }""",
            {"grain": grain}, org.token(Role.VIEWER)))["reports"]["budgetVsActual"]["rows"]
        return [(r["period"], r["budget"]["amount"], r["actual"]["amount"]) for r in rows]

    assert await grouped("FISCAL_QUARTER") == [("FY2026-Q4", "1.00", "0.00"),
                                               ("FY2027-Q1", "30.00", "25.00"),
                                               ("FY2027-Q2", "40.00", "0.00")]
    assert await grouped("FISCAL_YEAR") == [("FY2026", "1.00", "0.00"),
                                            ("FY2027", "70.00", "25.00")]
    both = await books.api.execute("""{ reports { budgetVsActual(fromPeriod: "2026-01",
        toPeriod: "2026-12", groupBy: [PERIOD, FISCAL_YEAR]) { total { budget { amount } } }
        } }""", token=books.token)
    assert both["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "groupBy"}


async def test_policy_parameters_must_be_an_object(portfolio: Portfolio, books: Books) -> None:
    service_id = (await portfolio.create("Hosting"))["id"]
    for parameters in ([1, 2], "markup", 3):
        refused = await books.policy(service_id, "cost_plus", parameters)  # type: ignore[arg-type]
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [
            ("VALIDATION", "parameters")]


async def test_a_month_with_unbilled_changes_is_issued_again_before_it_closes(
        portfolio: Portfolio, books: Books) -> None:
    service_id, _ = await _recovered_service(portfolio, books)
    await books.ok(ISSUE, {"period": "2026-03"}, "issueStatements")
    await asyncio.sleep(0.01)
    await books.cost(service_id, "2026-03-29", "30.00")
    stale = await books.call(CLOSE, {"period": "2026-03"}, "closePeriod")
    assert [(e["code"], e["field"]) for e in stale["errors"]] == [("CONFLICT", "period")]
    assert "issue them again" in stale["errors"][0]["message"]
    await books.ok(ISSUE, {"period": "2026-03"}, "issueStatements")
    assert (await books.call(CLOSE, {"period": "2026-03"}, "closePeriod"))["errors"] == []


async def test_amounts_and_ids_out_of_range_are_coded_errors(portfolio: Portfolio,
                                                            books: Books) -> None:
    import base64

    service_id = (await portfolio.create("Hosting"))["id"]
    for amount in ("1e30", "1" * 28, "-1e20"):
        refused = await books.call(RECORD_COST, {"input": {
            "serviceId": service_id, "bookedOn": "2026-01-02", "category": "labour",
            "amount": eur(amount)}}, "recordCost")
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [
            ("VALIDATION", "amount")], amount
    too_big = await books.policy(service_id, "fixed_price", {"price": "999999999999999"})
    assert [e["field"] for e in too_big["errors"]] == ["parameters"]
    for node_id in ("²", "99999999999999999999"):
        foreign = base64.b64encode(f"Service:{node_id}".encode()).decode()
        refused = await books.call(RECORD_COST, {"input": {
            "serviceId": foreign, "bookedOn": "2026-01-02", "category": "labour",
            "amount": eur("1")}}, "recordCost")
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [
            ("NOT_FOUND", "serviceId")], node_id
        assert (await books.api.data("query($id: ID!) { node(id: $id) { id } }",
                                     {"id": foreign}, books.token))["node"] is None
