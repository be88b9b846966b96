"""The risk register of a service: raising, updating and closing risks, exposure
(likelihood x impact) and its totals, and every refusal's code."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from spm_api.vocabulary.enums import Role
from tests.support import Org, Portfolio

RISK_FIELDS = """id description likelihood impact exposure mitigation status closingReason
                 owner { name } raisedBy { name }"""
ADD = """
mutation($input: AddRiskInput!) {
  addRisk(input: $input) {
    risk {""" + RISK_FIELDS + """}
    service { riskExposure { risks total highest } }
    errors { code field message }
  }
}"""
UPDATE = """
mutation($input: UpdateRiskInput!) {
  updateRisk(input: $input) { risk {""" + RISK_FIELDS + """} errors { code field message } }
}"""
CLOSE = """
mutation($input: CloseRiskInput!) {
  closeRisk(input: $input) {
    risk { status closingReason closedAt } service { riskExposure { risks total highest } }
    errors { code field message }
  }
}"""
READ = """
query($id: ID!, $closed: Boolean!) { node(id: $id) { ... on Service {
  risks(includeClosed: $closed) { description exposure status }
  riskExposure { risks total highest } } } }"""


def person(org: Org, role: Role) -> str:
    return str(relay.GlobalID("Person", str(org.person_ids[role])))


async def add(portfolio: Portfolio, service: str, description: str, likelihood: int,
              impact: int, role: Role = Role.CONTRIBUTOR, **extra: Any) -> dict[str, Any]:
    data = await portfolio.api.data(ADD, {"input": {
        "serviceId": service, "description": description, "likelihood": likelihood,
        "impact": impact, **extra}}, portfolio.org.token(role))
    payload: dict[str, Any] = data["addRisk"]
    return payload


async def update(portfolio: Portfolio, risk: str, role: Role = Role.PORTFOLIO_MANAGER,
                 **changes: Any) -> dict[str, Any]:
    data = await portfolio.api.data(UPDATE, {"input": {"riskId": risk, **changes}},
                                    portfolio.org.token(role))
    payload: dict[str, Any] = data["updateRisk"]
    return payload


async def close(portfolio: Portfolio, risk: str, reason: str,
                role: Role = Role.PORTFOLIO_MANAGER) -> dict[str, Any]:
    data = await portfolio.api.data(CLOSE, {"input": {"riskId": risk, "reason": reason}},
                                    portfolio.org.token(role))
    payload: dict[str, Any] = data["closeRisk"]
    return payload


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(error["code"], error["field"]) for error in payload["errors"]]


async def test_risks_are_raised_updated_closed_and_add_up(portfolio: Portfolio,
                                                          org: Org) -> None:
    service = (await portfolio.create("Data Platform"))["id"]
    vendor = await add(portfolio, service, "Vendor goes out of business", 2, 5,
                       ownerId=person(org, Role.PORTFOLIO_MANAGER),
                       mitigation="escrow of the source code")
    assert vendor["errors"] == []
    risk = vendor["risk"]
    assert (risk["exposure"], risk["status"], risk["owner"]["name"]) == (
        10, "OPEN", "Portfolio_Manager of acme")
    assert risk["raisedBy"]["name"] == "Contributor of acme"
    assert vendor["service"]["riskExposure"] == {"risks": 1, "total": 10, "highest": 10}
    skills = await add(portfolio, service, "Too few people know the stack", 4, 3)
    assert skills["service"]["riskExposure"] == {"risks": 2, "total": 22, "highest": 12}
    # Mitigation lowers the likelihood: 2 x 3 = 6.
    mitigated = await update(portfolio, skills["risk"]["id"], likelihood=2,
                             status="MITIGATED", mitigation="two more engineers trained")
    assert mitigated["errors"] == []
    assert (mitigated["risk"]["exposure"], mitigated["risk"]["status"]) == (6, "MITIGATED")
    closed = await close(portfolio, vendor["risk"]["id"], "contract moved to a second vendor")
    assert closed["errors"] == []
    assert closed["risk"]["status"] == "CLOSED"
    assert closed["risk"]["closingReason"] == "contract moved to a second vendor"
    assert closed["risk"]["closedAt"] is not None
    assert closed["service"]["riskExposure"] == {"risks": 1, "total": 6, "highest": 6}
    read = await portfolio.api.data(READ, {"id": service, "closed": False},
                                    org.token(Role.VIEWER))
    assert read["node"]["risks"] == [
        {"description": "Too few people know the stack", "exposure": 6,
         "status": "MITIGATED"}]
    everything = await portfolio.api.data(READ, {"id": service, "closed": True},
                                          org.token(Role.VIEWER))
    # Highest exposure first; the closed one kept for the record.
    assert [(r["exposure"], r["status"]) for r in everything["node"]["risks"]] == [
        (10, "CLOSED"), (6, "MITIGATED")]


async def test_refusals_have_codes_and_write_nothing(portfolio: Portfolio, org: Org,
                                                     other_org: Org) -> None:
    service = (await portfolio.create("Data Platform"))["id"]
    assert codes(await add(portfolio, service, "x", 0, 6)) == [
        ("VALIDATION", "likelihood"), ("VALIDATION", "impact")]
    assert codes(await add(portfolio, service, "  ", 3, 3)) == [
        ("VALIDATION", "description")]
    viewer = await add(portfolio, service, "x", 3, 3, role=Role.VIEWER)
    assert [e["code"] for e in viewer["errors"]] == ["FORBIDDEN"]
    stranger = await add(portfolio, service, "x", 3, 3, ownerId=person(other_org, Role.ADMIN))
    assert codes(stranger) == [("NOT_FOUND", "ownerId")]
    elsewhere = await portfolio.api.data(ADD, {"input": {
        "serviceId": service, "description": "x", "likelihood": 1, "impact": 1}},
        other_org.token(Role.ADMIN))
    assert codes(elsewhere["addRisk"]) == [("NOT_FOUND", "serviceId")]
    risk = (await add(portfolio, service, "Outage of the data centre", 3, 4))["risk"]["id"]
    assert codes(await update(portfolio, risk, impact=9)) == [("VALIDATION", "impact")]
    assert codes(await update(portfolio, risk, status="CLOSED")) == [("VALIDATION", "status")]
    assert codes(await close(portfolio, risk, " ")) == [("REASON_REQUIRED", "reason")]
    other = await portfolio.api.data(UPDATE, {"input": {"riskId": risk, "impact": 1}},
                                     other_org.token(Role.ADMIN))
    assert codes(other["updateRisk"]) == [("NOT_FOUND", "riskId")]
    assert (await close(portfolio, risk, "moved to the cloud"))["errors"] == []
    assert codes(await update(portfolio, risk, impact=1)) == [("RISK_CLOSED", "riskId")]
    assert codes(await close(portfolio, risk, "again")) == [("RISK_CLOSED", "riskId")]
    read = await portfolio.api.data(READ, {"id": service, "closed": True},
                                    org.token(Role.VIEWER))
    assert read["node"]["risks"] == [
        {"description": "Outage of the data centre", "exposure": 12, "status": "CLOSED"}]


async def test_an_ended_service_keeps_its_register(portfolio: Portfolio, org: Org) -> None:
    service = (await portfolio.create("Kiosk"))["id"]
    risk = (await add(portfolio, service, "Nobody uses it", 4, 2))["risk"]["id"]
    withdrawn = await portfolio.transition(service, "WITHDRAWN", "no demand")
    assert withdrawn["errors"] == []
    assert codes(await add(portfolio, service, "x", 1, 1)) == [("STAGE_LOCKED", "serviceId")]
    assert codes(await update(portfolio, risk, impact=1)) == [("STAGE_LOCKED", "riskId")]
