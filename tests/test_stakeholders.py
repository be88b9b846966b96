"""Stakeholders of a service: people of the organisation registered with a role."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from spm_api.vocabulary.enums import Role
from tests.support import Org, Portfolio

ADD = """
mutation($input: AddStakeholderInput!) {
  addStakeholder(input: $input) {
    stakeholder { id role person { name } addedBy { id } }
    service { stakeholders { role person { name } } }
    errors { code field message }
  }
}"""

REMOVE = """
mutation($input: RemoveStakeholderInput!) {
  removeStakeholder(input: $input) {
    removedId service { stakeholders { role } }
    errors { code field message }
  }
}"""

READ = """
query($id: ID!) { node(id: $id) { ... on Service { stakeholders { role person { name } } } } }
"""


def person(org: Org, role: Role) -> str:
    return str(relay.GlobalID("Person", str(org.person_ids[role])))


async def _add(portfolio: Portfolio, service_id: str, person_id: str, role: str,
               token_role: Role = Role.PORTFOLIO_MANAGER) -> dict[str, Any]:
    data = await portfolio.api.data(ADD, {"input": {
        "serviceId": service_id, "personId": person_id, "role": role}},
        portfolio.org.token(token_role))
    payload: dict[str, Any] = data["addStakeholder"]
    return payload


def codes(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def test_stakeholders_are_registered_with_a_role_and_removed(
    portfolio: Portfolio, org: Org
) -> None:
    service = (await portfolio.create("Payroll"))["id"]
    sponsor = await _add(portfolio, service, person(org, Role.FINANCE), "SPONSOR")
    assert sponsor["errors"] == []
    assert sponsor["stakeholder"]["role"] == "SPONSOR"
    assert sponsor["stakeholder"]["person"]["name"] == f"Finance of {org.slug}"
    ops = await _add(portfolio, service, person(org, Role.FINANCE), "FINANCE")
    assert ops["service"]["stakeholders"] == [
        {"role": "SPONSOR", "person": {"name": f"Finance of {org.slug}"}},
        {"role": "FINANCE", "person": {"name": f"Finance of {org.slug}"}},
    ]
    removed = await portfolio.api.data(REMOVE, {"input": {
        "stakeholderId": sponsor["stakeholder"]["id"]}}, org.token(Role.ADMIN))
    assert removed["removeStakeholder"]["errors"] == []
    assert removed["removeStakeholder"]["service"]["stakeholders"] == [{"role": "FINANCE"}]
    read = await portfolio.api.data(READ, {"id": service}, org.token(Role.VIEWER))
    assert [s["role"] for s in read["node"]["stakeholders"]] == ["FINANCE"]


async def test_refusals_have_codes_and_write_nothing(portfolio: Portfolio, org: Org,
                                                     other_org: Org) -> None:
    service = (await portfolio.create("Payroll"))["id"]
    first = await _add(portfolio, service, person(org, Role.VIEWER), "USER_REPRESENTATIVE")
    assert first["errors"] == []
    duplicate = await _add(portfolio, service, person(org, Role.VIEWER),
                           "USER_REPRESENTATIVE")
    assert codes(duplicate) == [("CONFLICT", "role")]
    stranger = await _add(portfolio, service, person(other_org, Role.VIEWER), "OPERATIONS")
    assert codes(stranger) == [("NOT_FOUND", "personId")]
    assert "other" not in stranger["errors"][0]["message"]
    missing = await _add(portfolio, str(relay.GlobalID("Service", "999999")),
                         person(org, Role.VIEWER), "OPERATIONS")
    assert codes(missing) == [("NOT_FOUND", "serviceId")]
    forbidden = await _add(portfolio, service, person(org, Role.VIEWER), "OPERATIONS",
                           token_role=Role.CONTRIBUTOR)
    assert [e["code"] for e in forbidden["errors"]] == ["FORBIDDEN"]
    removal = await portfolio.api.data(REMOVE, {"input": {
        "stakeholderId": first["stakeholder"]["id"]}}, org.token(Role.CONTRIBUTOR))
    assert [e["code"] for e in removal["removeStakeholder"]["errors"]] == ["FORBIDDEN"]
    read = await portfolio.api.data(READ, {"id": service}, org.token(Role.VIEWER))
    assert [s["role"] for s in read["node"]["stakeholders"]] == ["USER_REPRESENTATIVE"]


async def test_another_organisation_cannot_touch_the_stakeholders(
    portfolio: Portfolio, org: Org, other_org: Org
) -> None:
    service = (await portfolio.create("Payroll"))["id"]
    added = await _add(portfolio, service, person(org, Role.VIEWER), "SPONSOR")
    removal = await portfolio.api.data(REMOVE, {"input": {
        "stakeholderId": added["stakeholder"]["id"]}}, other_org.token(Role.ADMIN))
    assert [(e["code"], e["field"]) for e in removal["removeStakeholder"]["errors"]] == [
        ("NOT_FOUND", "stakeholderId")]
    other = await portfolio.api.data(ADD, {"input": {
        "serviceId": service, "personId": person(other_org, Role.VIEWER), "role": "SPONSOR"}},
        other_org.token(Role.ADMIN))
    assert codes(other["addStakeholder"]) == [("NOT_FOUND", "serviceId")]
