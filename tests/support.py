"""Test helpers: a small GraphQL client and an organisation with a person in every role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.applications import Starlette

from spm_api.db.base import Base
from spm_api.db.engine import create_session_factory
from spm_api.domain.tenancy import create_organisation, create_person
from spm_api.domain.tokens import issue_token
from spm_api.vocabulary.enums import Role


async def empty_tables(connection: AsyncConnection) -> None:
    """Delete every row of every table. The audit trail refuses DELETE on PostgreSQL (a
    trigger), so it is truncated there, as its owner would for retention."""
    for table in reversed(Base.metadata.sorted_tables):
        if table.name == "audit_event" and connection.dialect.name == "postgresql":
            await connection.execute(text("TRUNCATE audit_event"))
        else:
            await connection.execute(delete(table))


class GraphQLClient:
    """Posts operations to /graphql the way a front end does."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def execute(self, query: str, variables: dict[str, Any] | None = None,
                      token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None,
                   token: str | None = None) -> dict[str, Any]:
        """The ``data`` of a response that must have no GraphQL errors."""
        body = await self.execute(query, variables, token)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@asynccontextmanager
async def serve_api(app: Starlette) -> AsyncIterator[GraphQLClient]:
    """A client talking to ``app`` in-process, as the ``api`` fixture does."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield GraphQLClient(http)


@dataclass
class Org:
    """An organisation with one person per role, each with a token."""

    id: int
    slug: str
    tokens: dict[Role, str] = field(default_factory=dict)
    person_ids: dict[Role, int] = field(default_factory=dict)

    #: Tokens of the decision makers added by ``add_decision_makers``, in order.
    deciders: list[str] = field(default_factory=list)

    def token(self, role: Role) -> str:
        return self.tokens[role]


async def add_people(engine: AsyncEngine, org: Org, count: int, roles: list[Role],
                     label: str = "decider") -> list[str]:
    """``count`` more people holding ``roles``; returns their tokens."""
    tokens: list[str] = []
    async with create_session_factory(engine)() as session, session.begin():
        for _ in range(count):
            number = len(org.deciders) + len(tokens) + 1
            person = await create_person(
                session, org.id, f"{label.title()} {number}",
                f"{label}{number}@{org.slug}.example", roles)
            tokens.append(await issue_token(session, person.id))
    return tokens


async def add_decision_makers(engine: AsyncEngine, org: Org, count: int) -> list[str]:
    """Bring the organisation to ``count`` decision makers in all: ``make_org`` made one
    (``org.token(Role.DECISION_MAKER)``), so this adds ``count - 1`` and lists all of
    them in ``org.deciders``."""
    added = await add_people(engine, org, count - 1, [Role.DECISION_MAKER])
    org.deciders = [org.token(Role.DECISION_MAKER), *added]
    return org.deciders


async def make_org(engine: AsyncEngine, slug: str) -> Org:
    async with create_session_factory(engine)() as session, session.begin():
        organisation = await create_organisation(session, f"Organisation {slug}", slug)
        org = Org(id=organisation.id, slug=slug)
        for role in Role:
            person = await create_person(
                session, organisation.id, f"{role.value.title()} of {slug}",
                f"{role.value.lower()}@{slug}.example", [role],
            )
            org.person_ids[role] = person.id
            org.tokens[role] = await issue_token(session, person.id)
    return org


CREATE_SERVICE = """
mutation($input: CreateServiceInput!) {
  createService(input: $input) {
    service { id name stage section version }
    errors { code field message }
  }
}"""

ADD_REQUIREMENT = """
mutation($input: AddRequirementInput!) {
  addRequirement(input: $input) {
    requirement { id necessity }
    service { version }
    errors { code field message }
  }
}"""

ASSESS_REQUIREMENT = """
mutation($input: AssessRequirementInput!) {
  assessRequirement(input: $input) {
    requirement { id necessity judgementReason judgedBy { id } }
    errors { code field message }
  }
}"""

ADD_INPUT = """
mutation($input: AddStakeholderInputInput!) {
  addStakeholderInput(input: $input) {
    stakeholderInput { id position comment }
    errors { code field message }
  }
}"""

UPDATE_SERVICE = """
mutation($input: UpdateServiceInput!) {
  updateService(input: $input) {
    service { id name summary objectives version investmentCategory owner { id } }
    errors { code field message }
  }
}"""

TRANSITION = """
mutation($input: TransitionServiceInput!) {
  transitionService(input: $input) {
    service { id stage section version plannedEndDate }
    stageChange { fromStage toStage reason actor { id } }
    errors { code field message }
  }
}"""


CAST_VOTE = """
mutation($input: CastVoteInput!) {
  castVote(input: $input) {
    vote { id decision comment voter { id } }
    service { id stage version }
    approval { status decisionMakerCount votes { decision } verdicts { rule status explanation } }
    stageChange { fromStage toStage reason }
    errors { code field message }
  }
}"""

APPROVAL = """
query($id: ID!) {
  node(id: $id) { ... on Service {
    stage
    approval {
      status openedAt closedAt decisionMakerCount
      votes { decision comment voter { id name } }
      voteHistory { decision }
      verdicts { rule plugin status explanation }
    }
  } }
}"""


class Portfolio:
    """Drives a service through its stages over GraphQL, as a person would."""

    def __init__(self, api: GraphQLClient, org: Org) -> None:
        self.api = api
        self.org = org

    async def create(self, name: str = "Service Desk", objectives: str = "Resolve incidents",
                     role: Role = Role.CONTRIBUTOR, **extra: Any) -> dict[str, Any]:
        data = await self.api.data(CREATE_SERVICE, {"input": {
            "name": name, "investmentCategory": "RUN", "objectives": objectives, **extra,
        }}, self.org.token(role))
        payload: dict[str, Any] = data["createService"]
        assert payload["errors"] == [], payload["errors"]
        service: dict[str, Any] = payload["service"]
        return service

    async def add_requirement(self, service_id: str, text: str = "Available 24/7") -> str:
        data = await self.api.data(ADD_REQUIREMENT, {"input": {
            "serviceId": service_id, "text": text}}, self.org.token(Role.CONTRIBUTOR))
        assert data["addRequirement"]["errors"] == []
        requirement_id: str = data["addRequirement"]["requirement"]["id"]
        return requirement_id

    async def assess(self, requirement_id: str, necessity: str = "NECESSARY") -> None:
        data = await self.api.data(ASSESS_REQUIREMENT, {"input": {
            "requirementId": requirement_id, "necessity": necessity, "reason": "workshop"}},
            self.org.token(Role.PORTFOLIO_MANAGER))
        assert data["assessRequirement"]["errors"] == []

    async def add_input(self, service_id: str, role: Role = Role.DECISION_MAKER) -> None:
        data = await self.api.data(ADD_INPUT, {"input": {
            "serviceId": service_id, "position": "SUPPORT", "comment": "we need this"}},
            self.org.token(role))
        assert data["addStakeholderInput"]["errors"] == []

    async def transition(self, service_id: str, to: str, reason: str = "",
                         role: Role = Role.PORTFOLIO_MANAGER,
                         expected_version: int | None = None,
                         planned_end_date: str | None = None) -> dict[str, Any]:
        data = await self.api.data(TRANSITION, {"input": {
            "serviceId": service_id, "to": to, "reason": reason,
            "expectedVersion": expected_version, "plannedEndDate": planned_end_date}},
            self.org.token(role))
        payload: dict[str, Any] = data["transitionService"]
        return payload

    async def in_analysis(self, name: str = "Service Desk") -> tuple[str, list[str]]:
        service = await self.create(name)
        requirements = [await self.add_requirement(service["id"], f"req {i}") for i in range(2)]
        moved = await self.transition(service["id"], "ANALYSIS")
        assert moved["errors"] == [], moved["errors"]
        return service["id"], requirements

    async def in_approval(self, name: str = "Service Desk") -> str:
        service_id, requirements = await self.in_analysis(name)
        for requirement_id in requirements:
            await self.assess(requirement_id)
        await self.add_input(service_id)
        moved = await self.transition(service_id, "APPROVAL")
        assert moved["errors"] == [], moved["errors"]
        return service_id

    async def vote(self, service_id: str, decision: str, token: str, comment: str = ""
                   ) -> dict[str, Any]:
        data = await self.api.data(CAST_VOTE, {"input": {
            "serviceId": service_id, "decision": decision, "comment": comment}}, token)
        payload: dict[str, Any] = data["castVote"]
        return payload

    async def approval(self, service_id: str) -> dict[str, Any]:
        data = await self.api.data(APPROVAL, {"id": service_id},
                                   self.org.token(Role.VIEWER))
        service: dict[str, Any] = data["node"]
        return service

    async def approved(self, name: str = "Service Desk") -> str:
        """A service in APPROVAL whose round the organisation's only decision maker
        approved (``make_org`` creates exactly one)."""
        service_id = await self.in_approval(name)
        voted = await self.vote(service_id, "APPROVE", self.org.token(Role.DECISION_MAKER))
        assert voted["errors"] == [], voted["errors"]
        assert voted["approval"]["status"] == "APPROVED", voted["approval"]
        return service_id

    async def chartered(self, name: str = "Service Desk") -> str:
        service_id = await self.approved(name)
        moved = await self.transition(service_id, "CHARTERED", "go")
        assert moved["errors"] == [], moved["errors"]
        return service_id

    async def live(self, name: str = "Service Desk") -> str:
        """A chartered service (no contractor engagements) gone LIVE."""
        service_id = await self.chartered(name)
        moved = await self.transition(service_id, "LIVE")
        assert moved["errors"] == [], moved["errors"]
        return service_id

    async def retiring(self, name: str, planned_end_date: str,
                       reason: str = "replaced by a shared platform") -> str:
        """A LIVE service that started RETIRING, ending on ``planned_end_date``."""
        service_id = await self.live(name)
        moved = await self.transition(service_id, "RETIRING", reason,
                                      planned_end_date=planned_end_date)
        assert moved["errors"] == [], moved["errors"]
        return service_id


def drawn_documents(strategy: Any, count: int, fixed_seed: int) -> list[str]:
    """``count`` GraphQL documents drawn from a hypothesis-graphql ``strategy`` with a
    fixed seed, so a failing one is drawn again on the next run."""
    from hypothesis import HealthCheck, Phase, given, seed, settings

    documents: list[str] = []

    @settings(max_examples=count, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), deadline=None)
    @seed(fixed_seed)
    @given(strategy)
    def collect(document: Any) -> None:
        documents.append(str(document))

    collect()
    return documents
