"""Who may do what: the role matrix, seen from the mutations' payloads."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.relay import to_base64

from spm_api.db.engine import create_session_factory
from spm_api.domain.tenancy import create_person
from spm_api.domain.tokens import issue_token
from spm_api.vocabulary.enums import Role
from tests.support import (
    ADD_INPUT,
    ADD_REQUIREMENT,
    ASSESS_REQUIREMENT,
    CREATE_SERVICE,
    TRANSITION,
    UPDATE_SERVICE,
    GraphQLClient,
    Org,
    Portfolio,
)

EDITORS = {Role.CONTRIBUTOR, Role.PORTFOLIO_MANAGER, Role.ADMIN}
INPUT_GIVERS = {
    Role.CONTRIBUTOR, Role.DECISION_MAKER, Role.PORTFOLIO_MANAGER, Role.FINANCE, Role.ADMIN,
}
MANAGERS = {Role.PORTFOLIO_MANAGER, Role.ADMIN}

ALL_ROLES = pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)

SERVICE_STATE = """
query($id: ID!) {
  service(id: $id) {
    name stage version
    requirements { necessity judgementReason }
    stakeholderInputs { comment }
    stageChanges { toStage }
  }
}"""


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["errors"]]


def check_outcome(payload: dict[str, Any], allowed: bool, result_field: str) -> None:
    """An allowed role gets the result and no errors; any other gets FORBIDDEN only."""
    if allowed:
        assert payload["errors"] == [], payload["errors"]
        assert payload[result_field] is not None
    else:
        assert codes(payload) == ["FORBIDDEN"], payload["errors"]
        assert payload[result_field] is None


async def state(portfolio: Portfolio, service_id: str) -> dict[str, Any]:
    data = await portfolio.api.data(SERVICE_STATE, {"id": service_id},
                                    portfolio.org.token(Role.VIEWER))
    service: dict[str, Any] = data["service"]
    return service


@ALL_ROLES
async def test_create_service(portfolio: Portfolio, role: Role) -> None:
    data = await portfolio.api.data(CREATE_SERVICE, {"input": {
        "name": "Hosting", "investmentCategory": "GROW"}}, portfolio.org.token(role))
    check_outcome(data["createService"], role in EDITORS, "service")
    listed = await portfolio.api.data("{ services { totalCount edges { node { name } } } }",
                                      token=portfolio.org.token(Role.VIEWER))
    expected = [{"node": {"name": "Hosting"}}] if role in EDITORS else []
    assert listed["services"]["edges"] == expected
    assert listed["services"]["totalCount"] == len(expected)


@ALL_ROLES
async def test_update_service(portfolio: Portfolio, role: Role) -> None:
    service = await portfolio.create()
    before = await state(portfolio, service["id"])
    data = await portfolio.api.data(UPDATE_SERVICE, {"input": {
        "serviceId": service["id"], "name": "Renamed", "summary": "new words"}},
        portfolio.org.token(role))
    check_outcome(data["updateService"], role in EDITORS, "service")
    after = await state(portfolio, service["id"])
    if role in EDITORS:
        assert after["name"] == "Renamed"
        assert after["version"] > before["version"]
    else:
        assert after == before


@ALL_ROLES
async def test_add_requirement(portfolio: Portfolio, role: Role) -> None:
    service = await portfolio.create()
    before = await state(portfolio, service["id"])
    data = await portfolio.api.data(ADD_REQUIREMENT, {"input": {
        "serviceId": service["id"], "text": "Runs on weekends"}}, portfolio.org.token(role))
    check_outcome(data["addRequirement"], role in EDITORS, "requirement")
    after = await state(portfolio, service["id"])
    if role in EDITORS:
        assert len(after["requirements"]) == 1
    else:
        assert after == before
        assert after["requirements"] == []


@ALL_ROLES
async def test_assess_requirement(portfolio: Portfolio, role: Role) -> None:
    service_id, requirements = await portfolio.in_analysis()
    before = await state(portfolio, service_id)
    data = await portfolio.api.data(ASSESS_REQUIREMENT, {"input": {
        "requirementId": requirements[0], "necessity": "NECESSARY", "reason": "workshop"}},
        portfolio.org.token(role))
    check_outcome(data["assessRequirement"], role in MANAGERS, "requirement")
    after = await state(portfolio, service_id)
    if role in MANAGERS:
        assert after["requirements"][0] == {"necessity": "NECESSARY",
                                            "judgementReason": "workshop"}
    else:
        assert after == before
        assert {r["necessity"] for r in after["requirements"]} == {"UNASSESSED"}


@ALL_ROLES
async def test_add_stakeholder_input(portfolio: Portfolio, role: Role) -> None:
    service = await portfolio.create()
    before = await state(portfolio, service["id"])
    data = await portfolio.api.data(ADD_INPUT, {"input": {
        "serviceId": service["id"], "position": "CONCERN", "comment": "costly"}},
        portfolio.org.token(role))
    check_outcome(data["addStakeholderInput"], role in INPUT_GIVERS, "stakeholderInput")
    after = await state(portfolio, service["id"])
    if role in INPUT_GIVERS:
        assert after["stakeholderInputs"] == [{"comment": "costly"}]
    else:
        assert after == before
        assert after["stakeholderInputs"] == []


@ALL_ROLES
async def test_transition_service(portfolio: Portfolio, role: Role) -> None:
    service = await portfolio.create()
    await portfolio.add_requirement(service["id"])
    before = await state(portfolio, service["id"])
    payload = await portfolio.transition(service["id"], "ANALYSIS", role=role)
    check_outcome(payload, role in MANAGERS, "service")
    after = await state(portfolio, service["id"])
    if role in MANAGERS:
        assert after["stage"] == "ANALYSIS"
        actor = to_base64("Person", portfolio.org.person_ids[role])
        assert payload["stageChange"]["actor"] == {"id": actor}
    else:
        assert after == before
        assert after["stageChanges"] == [{"toStage": "DEFINITION"}]


@ALL_ROLES
async def test_every_role_reads_viewer_services_and_portfolio(
    portfolio: Portfolio, role: Role
) -> None:
    await portfolio.create()
    data = await portfolio.api.data("""{
      viewer { roles }
      services { totalCount edges { node { name stage } } }
      portfolio { total }
    }""", token=portfolio.org.token(role))
    assert data["viewer"]["roles"] == [role.value]
    assert data["services"]["totalCount"] == 1
    assert data["services"]["edges"] == [{"node": {"name": "Service Desk", "stage": "DEFINITION"}}]
    assert data["portfolio"]["total"] == 1


async def test_roles_of_one_person_add_up(
    api: GraphQLClient, org: Org, portfolio: Portfolio, db: AsyncEngine
) -> None:
    """A VIEWER who is also FINANCE may give input, yet still may not edit."""
    async with create_session_factory(db)() as session, session.begin():
        person = await create_person(session, org.id, "Fay", "fay@acme.example",
                                     [Role.VIEWER, Role.FINANCE])
        token = await issue_token(session, person.id)
    service = await portfolio.create()
    given = await api.data(ADD_INPUT, {"input": {
        "serviceId": service["id"], "position": "SUPPORT", "comment": "budget ok"}}, token)
    assert given["addStakeholderInput"]["errors"] == []
    edited = await api.data(UPDATE_SERVICE, {"input": {
        "serviceId": service["id"], "name": "Mine now"}}, token)
    assert codes(edited["updateService"]) == ["FORBIDDEN"]
    moved = await api.data(TRANSITION, {"input": {
        "serviceId": service["id"], "to": "ANALYSIS"}}, token)
    assert codes(moved["transitionService"]) == ["FORBIDDEN"]
