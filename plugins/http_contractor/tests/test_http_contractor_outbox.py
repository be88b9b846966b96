"""End to end through SPM API: a service is chartered while the contractor's HTTP
server is down; the charter succeeds, the engagement waits PENDING, and once the server
is back the outbox delivers it — exactly once on the contractor's side, even when a
delivery is repeated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from http_contractor_server import Behaviour, ContractorServer
from sqlalchemy import update
from test_http_contractor_integration import needs_installing

from spm_api.app import create_app
from spm_api.db import migrations
from spm_api.db.engine import create_engine, create_session_factory
from spm_api.domain.sourcing import outbox
from spm_api.domain.tenancy import create_organisation, create_person
from spm_api.domain.tokens import issue_token
from spm_api.models import Engagement
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role

pytestmark = needs_installing

POLICY = outbox.Policy(max_attempts=5, backoff=0.01, backoff_max=0.05,
                       lease=timedelta(seconds=30))


@dataclass
class Stack:
    http: httpx.AsyncClient
    tokens: dict[Role, str]
    plugins: PluginHost
    sessions: Any

    async def call(self, query: str, variables: dict[str, Any], role: Role) -> Any:
        response = await self.http.post("/graphql", json={
            "query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.tokens[role]}"})
        body = response.json()
        assert not body.get("errors"), body
        return body["data"]

    async def deliver(self) -> int:
        async with self.sessions() as session, session.begin():  # skip any backoff wait
            await session.execute(update(Engagement).values(
                next_attempt_at=Engagement.created_at))
        return await outbox.run_once(self.sessions, self.plugins, POLICY)


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A migrated SQLite file (migrating runs its own event loop, so not in ``stack``)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'spm.db'}"
    migrations.upgrade(url)
    return url


@pytest.fixture
async def stack(database: str) -> AsyncIterator[Stack]:
    url = database
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    tokens: dict[Role, str] = {}
    async with sessions() as session, session.begin():
        organisation = await create_organisation(session, "Acme", "acme")
        for role in Role:
            person = await create_person(session, organisation.id, role.value,
                                         f"{role.value.lower()}@acme.example", [role])
            tokens[role] = await issue_token(session, person.id)
    plugins = PluginHost.load(frozenset({"http_contractor"}), timeout=3.0)
    bus = EventBus("memory://")
    app = create_app(Settings(database_url=url, plugins="http_contractor",
                              event_bus="memory"), engine=engine, plugins=plugins, bus=bus)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as http:
        yield Stack(http, tokens, plugins, sessions)
    await bus.disconnect()
    plugins.close()
    await engine.dispose()


async def _charter(stack: Stack, contractor: ContractorServer) -> str:
    pm, contributor = Role.PORTFOLIO_MANAGER, Role.CONTRIBUTOR
    registered = await stack.call("""mutation($settings: JSON!) { registerContractor(input: {
        name: "Acme Hosting", integration: "http_json", settings: $settings}) {
        contractor { id } errors { code message } } }""",
        {"settings": {"base_url": contractor.base_url, "timeout_seconds": 1}}, pm)
    assert registered["registerContractor"]["errors"] == []
    contractor_id = registered["registerContractor"]["contractor"]["id"]
    service = (await stack.call("""mutation { createService(input: {name: "Hosting",
        investmentCategory: RUN, objectives: "Run the platform"}) { service { id } } }""",
        {}, contributor))["createService"]["service"]["id"]
    requirement = (await stack.call("""mutation($id: ID!) { addRequirement(input: {
        serviceId: $id, text: "99.9% available"}) { requirement { id } } }""",
        {"id": service}, contributor))["addRequirement"]["requirement"]["id"]
    await stack.call("""mutation($id: ID!, $c: ID!) { addCapability(input: {serviceId: $id,
        name: "Hosting team", sourcing: CONTRACTOR, contractorId: $c}) { errors { code } } }""",
        {"id": service, "c": contractor_id}, contributor)
    moves = [("ANALYSIS", pm), ("APPROVAL", pm)]
    await _move(stack, service, *moves[0])
    await stack.call("""mutation($id: ID!) { assessRequirement(input: {requirementId: $id,
        necessity: NECESSARY, reason: "core"}) { errors { code } } }""", {"id": requirement}, pm)
    await stack.call("""mutation($id: ID!) { addStakeholderInput(input: {serviceId: $id,
        position: SUPPORT, comment: "yes"}) { errors { code } } }""", {"id": service},
        Role.DECISION_MAKER)
    await _move(stack, service, *moves[1])
    await stack.call("""mutation($id: ID!) { castVote(input: {serviceId: $id,
        decision: APPROVE}) { errors { code } } }""", {"id": service}, Role.DECISION_MAKER)
    await _move(stack, service, "CHARTERED", pm)
    return str(service)


async def _move(stack: Stack, service: str, to: str, role: Role) -> None:
    moved = await stack.call("""mutation($id: ID!, $to: Stage!) { transitionService(input: {
        serviceId: $id, to: $to, reason: "go"}) { errors { code message } } }""",
        {"id": service, "to": to}, role)
    assert moved["transitionService"]["errors"] == [], moved


async def _engagement(stack: Stack, service: str) -> dict[str, Any]:
    data = await stack.call("""query($id: ID!) { service(id: $id) { engagements {
        status attempts idempotencyKey contractorReference lastError } } }""",
        {"id": service}, Role.VIEWER)
    [engagement] = data["service"]["engagements"]
    return dict(engagement)


async def test_down_at_charter_delivered_exactly_once_when_back(stack: Stack) -> None:
    contractor = ContractorServer().start()
    contractor.stop()  # the port is known, nothing listens on it
    try:
        service = await _charter(stack, contractor)
        assert (await _engagement(stack, service))["status"] == "PENDING"

        assert await stack.deliver() == 1
        waiting = await _engagement(stack, service)
        assert (waiting["status"], waiting["attempts"]) == ("PENDING", 1)
        assert waiting["lastError"]

        contractor.start()
        assert await stack.deliver() == 1
        sent = await _engagement(stack, service)
        assert (sent["status"], sent["contractorReference"]) == ("SENT", "E-1")
        assert await stack.deliver() == 0
        assert list(contractor.engagements) == [sent["idempotencyKey"]]
        assert contractor.attempts(sent["idempotencyKey"]) == 1
    finally:
        contractor.close()


async def test_a_timed_out_delivery_repeated_leaves_one_engagement(stack: Stack) -> None:
    contractor = ContractorServer(behaviour=Behaviour.HANG, hang_seconds=2.5).start()
    try:
        service = await _charter(stack, contractor)
        assert await stack.deliver() == 1  # the contractor took it, the answer came late
        late = await _engagement(stack, service)
        assert late["status"] == "PENDING" and late["lastError"]
        contractor.behaviour = Behaviour.NORMAL
        assert await stack.deliver() == 1
        sent = await _engagement(stack, service)
        assert sent["status"] == "SENT"
        assert contractor.attempts(sent["idempotencyKey"]) == 2
        assert list(contractor.engagements) == [sent["idempotencyKey"]]
    finally:
        contractor.close()
