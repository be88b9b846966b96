"""Chartering freezes a baseline; deviations from it are reported back to the
stakeholders, who affirm the delivered outcome."""

from __future__ import annotations

from typing import Any

from spm_api.vocabulary.enums import Role
from tests.support import Org, Portfolio

BASELINE = """
query($id: ID!) {
  node(id: $id) { ... on Service {
    stage objectives estimatedCost { amount currency }
    baseline { frozenAt objectives summary estimatedCost { amount currency }
               requirements { text necessity } }
    deviations { aspect kind subject baseline current description }
    affirmations { comment deviationCount person { name } }
  } }
}"""

AFFIRM = """
mutation($input: AffirmServiceInput!) {
  affirmService(input: $input) {
    affirmation { id comment deviationCount person { id } }
    service { id deviations { aspect } }
    errors { code field message }
  }
}"""

UPDATE = """
mutation($input: UpdateServiceInput!) {
  updateService(input: $input) { service { version } errors { code field message } }
}"""


async def _read(portfolio: Portfolio, service_id: str) -> dict[str, Any]:
    data = await portfolio.api.data(BASELINE, {"id": service_id},
                                    portfolio.org.token(Role.VIEWER))
    node: dict[str, Any] = data["node"]
    return node


async def _update(portfolio: Portfolio, service_id: str, **fields: Any) -> None:
    data = await portfolio.api.data(UPDATE, {"input": {"serviceId": service_id, **fields}},
                                    portfolio.org.token(Role.CONTRIBUTOR))
    assert data["updateService"]["errors"] == []


async def test_no_baseline_before_chartering(portfolio: Portfolio) -> None:
    service_id = await portfolio.in_approval()
    read = await _read(portfolio, service_id)
    assert read["baseline"] is None
    assert read["deviations"] == []


async def test_chartering_freezes_what_was_agreed(portfolio: Portfolio) -> None:
    service = await portfolio.create("Payroll", "Pay everyone on time",
                                     estimatedCost={"amount": "120000.50", "currency": "EUR"})
    service_id = service["id"]
    for text in ("Monthly run", "Expense claims"):
        await portfolio.add_requirement(service_id, text)
    moved = await portfolio.transition(service_id, "ANALYSIS")
    assert moved["errors"] == []
    read = await portfolio.api.data(
        "query($id: ID!) { node(id: $id) { ... on Service { requirements { id } } } }",
        {"id": service_id}, portfolio.org.token(Role.VIEWER))
    first, second = (r["id"] for r in read["node"]["requirements"])
    await portfolio.assess(first, "NECESSARY")
    await portfolio.assess(second, "NOT_NECESSARY")
    await portfolio.add_input(service_id)
    assert (await portfolio.transition(service_id, "APPROVAL"))["errors"] == []
    await portfolio.vote(service_id, "APPROVE", portfolio.org.token(Role.DECISION_MAKER))
    assert (await portfolio.transition(service_id, "CHARTERED", "go"))["errors"] == []

    read = await _read(portfolio, service_id)
    baseline = read["baseline"]
    assert baseline["objectives"] == "Pay everyone on time"
    assert baseline["estimatedCost"] == {"amount": "120000.50", "currency": "EUR"}
    assert baseline["requirements"] == [
        {"text": "Monthly run", "necessity": "NECESSARY"},
        {"text": "Expense claims", "necessity": "NOT_NECESSARY"},
    ]
    assert read["deviations"] == []


async def test_deviations_report_what_changed_since_the_baseline(portfolio: Portfolio
                                                                 ) -> None:
    service_id = await portfolio.chartered()
    await _update(portfolio, service_id, objectives="Resolve incidents and requests",
                  estimatedCost={"amount": "80000", "currency": "EUR"})
    await portfolio.add_requirement(service_id, "Chat channel")
    read = await _read(portfolio, service_id)
    deviations = {(d["aspect"], d["kind"]): d for d in read["deviations"]}
    assert set(deviations) == {("OBJECTIVES", "CHANGED"), ("ESTIMATED_COST", "CHANGED"),
                               ("REQUIREMENT", "ADDED")}
    objectives = deviations["OBJECTIVES", "CHANGED"]
    assert (objectives["baseline"], objectives["current"]) == (
        "Resolve incidents", "Resolve incidents and requests")
    cost = deviations["ESTIMATED_COST", "CHANGED"]
    assert (cost["baseline"], cost["current"]) == (None, "80000.00")
    added = deviations["REQUIREMENT", "ADDED"]
    assert (added["subject"], added["baseline"], added["current"]) == (
        "Chat channel", None, "Chat channel")
    # the baseline itself never moves
    assert read["baseline"]["objectives"] == "Resolve incidents"


async def test_stakeholders_affirm_the_outcome_knowing_the_deviations(
    portfolio: Portfolio, org: Org
) -> None:
    service_id = await portfolio.chartered()
    await _update(portfolio, service_id, summary="Now with a chat channel")
    affirmed = await portfolio.api.data(AFFIRM, {"input": {
        "serviceId": service_id, "comment": "delivered as agreed, plus chat"}},
        org.token(Role.CONTRIBUTOR))
    payload = affirmed["affirmService"]
    assert payload["errors"] == []
    assert payload["affirmation"]["deviationCount"] == 1
    assert payload["affirmation"]["person"]["id"]
    assert payload["service"]["deviations"] == [{"aspect": "SUMMARY"}]
    moved = await portfolio.transition(service_id, "LIVE")
    assert moved["errors"] == []
    again = await portfolio.api.data(AFFIRM, {"input": {"serviceId": service_id}},
                                     org.token(Role.DECISION_MAKER))
    assert again["affirmService"]["errors"] == []
    read = await _read(portfolio, service_id)
    assert [a["comment"] for a in read["affirmations"]] == [
        "delivered as agreed, plus chat", ""]


async def test_affirming_needs_a_stakeholder_and_a_charter(portfolio: Portfolio, org: Org
                                                           ) -> None:
    pipeline = await portfolio.in_approval("Early")
    early = await portfolio.api.data(AFFIRM, {"input": {"serviceId": pipeline}},
                                     org.token(Role.CONTRIBUTOR))
    assert [(e["code"], e["field"]) for e in early["affirmService"]["errors"]] == [
        ("STAGE_LOCKED", "serviceId")]
    chartered = await portfolio.chartered("Chartered")
    viewer = await portfolio.api.data(AFFIRM, {"input": {"serviceId": chartered}},
                                      org.token(Role.VIEWER))
    assert [e["code"] for e in viewer["affirmService"]["errors"]] == ["FORBIDDEN"]
    assert (await _read(portfolio, chartered))["affirmations"] == []


async def test_estimated_cost_is_validated(portfolio: Portfolio, org: Org) -> None:
    service = await portfolio.create()
    for bad in ("-1", "10.001", "1e20", "ten"):
        data = await portfolio.api.data(UPDATE, {"input": {
            "serviceId": service["id"], "estimatedCost": {"amount": bad, "currency": "EUR"}}},
            org.token(Role.CONTRIBUTOR))
        [error] = data["updateService"]["errors"]
        assert (error["code"], error["field"]) == ("VALIDATION", "estimatedCost")
    data = await portfolio.api.data(UPDATE, {"input": {
        "serviceId": service["id"], "estimatedCost": {"amount": "10", "currency": "USD"}}},
        org.token(Role.CONTRIBUTOR))
    [error] = data["updateService"]["errors"]
    assert (error["code"], error["field"]) == ("CURRENCY_MISMATCH", "estimatedCost")


async def test_the_baseline_holds_the_budget_and_a_later_change_is_a_deviation(
        portfolio: Portfolio, org: Org) -> None:
    service = await portfolio.create("Budgeted")
    budget = """mutation($id: ID!, $amount: String!) { setBudgetLine(input: {serviceId: $id,
        period: "2026-01", category: "labour", amount: {amount: $amount, currency: "EUR"}}) {
        errors { code } } }"""
    await portfolio.api.data(budget, {"id": service["id"], "amount": "5000"},
                             org.token(Role.FINANCE))
    for text in ("Payroll run",):
        await portfolio.add_requirement(service["id"], text)
    await portfolio.transition(service["id"], "ANALYSIS")
    read = await portfolio.api.data(
        "query($id: ID!) { service(id: $id) { requirements { id } } }",
        {"id": service["id"]}, org.token(Role.VIEWER))
    for requirement in read["service"]["requirements"]:
        await portfolio.assess(requirement["id"])
    await portfolio.add_input(service["id"])
    await portfolio.transition(service["id"], "APPROVAL")
    await portfolio.vote(service["id"], "APPROVE", org.token(Role.DECISION_MAKER))
    assert (await portfolio.transition(service["id"], "CHARTERED", "go"))["errors"] == []

    query = """query($id: ID!) { service(id: $id) {
        baseline { budget { amount } capabilities { name } }
        deviations { aspect kind baseline current } } }"""
    before = (await portfolio.api.data(query, {"id": service["id"]},
                                       org.token(Role.VIEWER)))["service"]
    assert before["baseline"] == {"budget": {"amount": "5000.00"}, "capabilities": []}
    assert before["deviations"] == []
    await portfolio.api.data(budget, {"id": service["id"], "amount": "6500"},
                             org.token(Role.FINANCE))
    after = (await portfolio.api.data(query, {"id": service["id"]},
                                      org.token(Role.VIEWER)))["service"]
    assert after["deviations"] == [{"aspect": "BUDGET", "kind": "CHANGED",
                                    "baseline": "5000.00", "current": "6500.00"}]
