"""Authentication: every root field needs a valid, unrevoked bearer token."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.base import utcnow
from spm_api.models import ApiToken
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

SERVICE_ID = "$service"  # replaced by the id of a real service
REQUIREMENT_ID = "$requirement"  # replaced by the id of a real requirement

#: One operation per root field, each asking for data that must not leak.
ROOT_FIELDS: dict[str, tuple[str, dict[str, Any]]] = {
    "node": ("query($id: ID!) { node(id: $id) { id ... on Service { name } } }",
             {"id": SERVICE_ID}),
    "viewer": ("{ viewer { id name email roles } }", {}),
    "services": ("{ services { totalCount edges { node { id name } } } }", {}),
    "service": ("query($id: ID!) { service(id: $id) { id name } }", {"id": SERVICE_ID}),
    "portfolio": ("{ portfolio { total } }", {}),
    "createService": (CREATE_SERVICE, {"input": {"name": "Sneaky", "investmentCategory": "RUN"}}),
    "updateService": (UPDATE_SERVICE, {"input": {"serviceId": SERVICE_ID, "name": "Sneaky"}}),
    "addRequirement": (ADD_REQUIREMENT, {"input": {"serviceId": SERVICE_ID, "text": "x"}}),
    "assessRequirement": (ASSESS_REQUIREMENT, {"input": {
        "requirementId": REQUIREMENT_ID, "necessity": "NECESSARY", "reason": "x"}}),
    "addStakeholderInput": (ADD_INPUT, {"input": {
        "serviceId": SERVICE_ID, "position": "OPPOSE", "comment": "x"}}),
    "transitionService": (TRANSITION, {"input": {
        "serviceId": SERVICE_ID, "to": "APPROVAL"}}),
    "auditEvents": ("{ auditEvents { edges { node { id personName after } } } }", {}),
}

STATE = """
query($id: ID!) {
  services { totalCount }
  service(id: $id) {
    name version stage
    requirements { necessity }
    stakeholderInputs { id }
  }
}"""


def fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    return ids.get(value, value) if isinstance(value, str) else value


def assert_unauthenticated(body: dict[str, Any], field: str) -> None:
    """A GraphQL error coded UNAUTHENTICATED, and the field gives nothing away."""
    assert body.get("errors"), body
    assert [error.get("extensions", {}).get("code") for error in body["errors"]] == [
        "UNAUTHENTICATED"], body["errors"]
    assert body["errors"][0]["path"] == [field]
    data = body.get("data")
    assert data is None or data.get(field) is None, body


@pytest.fixture
async def existing(portfolio: Portfolio) -> dict[str, str]:
    """A service in ANALYSIS with a requirement: something that could leak or be changed."""
    service_id, requirements = await portfolio.in_analysis()
    return {SERVICE_ID: service_id, REQUIREMENT_ID: requirements[0]}


async def state(api: GraphQLClient, org: Org, service_id: str) -> dict[str, Any]:
    return await api.data(STATE, {"id": service_id}, org.token(Role.VIEWER))


async def post(api: GraphQLClient, field: str, ids: dict[str, str],
               headers: dict[str, str]) -> dict[str, Any]:
    query, variables = ROOT_FIELDS[field]
    response = await api.http.post("/graphql", json={
        "query": query, "variables": fill(variables, ids)}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("field", list(ROOT_FIELDS))
async def test_no_token_is_refused(
    api: GraphQLClient, org: Org, existing: dict[str, str], field: str
) -> None:
    before = await state(api, org, existing[SERVICE_ID])
    body = await post(api, field, existing, headers={})
    assert_unauthenticated(body, field)
    assert "Service Desk" not in str(body)
    assert await state(api, org, existing[SERVICE_ID]) == before


@pytest.mark.parametrize("authorization", [
    "Bearer spm_not-a-real-token",
    "Bearer ",
    "Bearer",
    "Basic dXNlcjpwYXNz",
    "spm_garbage",
    "Bearer ' OR 1=1 --",
], ids=["unknown", "empty", "bare-scheme", "basic", "no-scheme", "injection"])
async def test_bad_token_is_refused(
    api: GraphQLClient, existing: dict[str, str], authorization: str
) -> None:
    for field in ("viewer", "services", "createService"):
        body = await post(api, field, existing, headers={"Authorization": authorization})
        assert_unauthenticated(body, field)


async def test_valid_token_outside_the_bearer_scheme_is_refused(
    api: GraphQLClient, org: Org, existing: dict[str, str]
) -> None:
    token = org.token(Role.ADMIN)
    body = await post(api, "viewer", existing, headers={"Authorization": f"Token {token}"})
    assert_unauthenticated(body, "viewer")


async def test_revoked_token_is_refused(
    api: GraphQLClient, org: Org, db: AsyncEngine, existing: dict[str, str]
) -> None:
    before = await state(api, org, existing[SERVICE_ID])
    async with db.begin() as connection:
        await connection.execute(
            update(ApiToken).where(ApiToken.person_id == org.person_ids[Role.ADMIN])
            .values(revoked_at=utcnow()))
    token = {"Authorization": f"Bearer {org.token(Role.ADMIN)}"}
    for field in ("viewer", "services", "service", "portfolio", "updateService",
                  "transitionService"):
        body = await post(api, field, existing, headers=token)
        assert_unauthenticated(body, field)
    assert await state(api, org, existing[SERVICE_ID]) == before
    # Other people's tokens are untouched.
    data = await api.data("{ viewer { roles } }", token=org.token(Role.PORTFOLIO_MANAGER))
    assert data["viewer"]["roles"] == ["PORTFOLIO_MANAGER"]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.PORTFOLIO_MANAGER],
                         ids=lambda role: role.value)
async def test_viewer_is_the_token_holder(api: GraphQLClient, org: Org, role: Role) -> None:
    data = await api.data("""{
      viewer { id name email roles organisation { name slug } }
    }""", token=org.token(role))
    viewer = data["viewer"]
    assert viewer["email"] == f"{role.value.lower()}@acme.example"
    assert viewer["name"] == f"{role.value.title()} of acme"
    assert viewer["roles"] == [role.value]
    assert viewer["organisation"] == {"name": "Organisation acme", "slug": "acme"}
    node = await api.data("query($id: ID!) { node(id: $id) { ... on Person { email } } }",
                          {"id": viewer["id"]}, org.token(Role.VIEWER))
    assert node["node"] == {"email": viewer["email"]}


async def test_bearer_scheme_is_case_insensitive(api: GraphQLClient, org: Org) -> None:
    response = await api.http.post("/graphql", json={"query": "{ viewer { roles } }"},
                                   headers={"Authorization": f"bearer {org.token(Role.FINANCE)}"})
    assert response.json() == {"data": {"viewer": {"roles": ["FINANCE"]}}}


async def test_introspection_needs_a_token(api: GraphQLClient, org: Org) -> None:
    query = "{ __schema { queryType { name } mutationType { name } } }"
    body = await api.execute(query)
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]
    assert await api.data(query, token=org.token(Role.VIEWER)) == {
        "__schema": {"queryType": {"name": "Query"}, "mutationType": {"name": "Mutation"}}}


async def test_graphiql_is_served_to_browsers(api: GraphQLClient) -> None:
    response = await api.http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_health(api: GraphQLClient) -> None:
    """The older name of /readyz (docs/operations.md), for probes that still use it."""
    response = await api.http.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
