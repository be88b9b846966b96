"""Cancelling a chartered service whose contractor is down, end to end over HTTP: the
contractor is the loopback server of the http_json integration's tests, reached by the
installed ``http_contractor`` plugin. Nothing is lost: the cancellation waits in the
outbox and reaches the contractor exactly once when it is back. SQLite and PostgreSQL.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.app import create_app
from spm_api.db.engine import create_session_factory
from spm_api.domain.sourcing import outbox
from spm_api.models import Engagement
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org, Portfolio, serve_api


def _loopback_server() -> Any:
    """``ContractorServer`` of the http_json integration's tests (not a package)."""
    name = "http_contractor_server"
    if name not in sys.modules:
        path = (Path(__file__).resolve().parent.parent / "plugins" / "http_contractor"
                / "tests" / f"{name}.py")
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name].ContractorServer


ContractorServer = _loopback_server()


def _installed() -> bool:
    try:
        distribution("spm-http-contractor")
    except PackageNotFoundError:
        return False
    return True


pytestmark = pytest.mark.skipif(
    not _installed(), reason="the spm-http-contractor distribution is not installed "
                             "(make install installs it)")

POLICY = outbox.Policy(max_attempts=5, backoff=0.01, backoff_max=0.05,
                       lease=timedelta(seconds=30))


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx honours proxy variables; the contractor here is on the loopback."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def contractor() -> Iterator[Any]:
    server = ContractorServer().start()
    yield server
    server.close()


@pytest.fixture
async def http_plugins() -> AsyncIterator[PluginHost]:
    host = PluginHost.load(frozenset({"http_contractor"}), timeout=3.0)
    yield host
    host.close()


@pytest.fixture
async def portfolio(db: AsyncEngine, settings: Settings, org: Org,
                    http_plugins: PluginHost) -> AsyncIterator[Portfolio]:
    bus = EventBus("memory://")
    app_settings = settings.model_copy(update={"plugins": "http_contractor"})
    async with serve_api(create_app(app_settings, engine=db, plugins=http_plugins,
                                    bus=bus)) as client:
        yield Portfolio(client, org)
    await bus.disconnect()


async def _call(api: GraphQLClient, org: Org, query: str, variables: dict[str, Any],
                role: Role = Role.PORTFOLIO_MANAGER) -> dict[str, Any]:
    data = await api.data(query, variables, org.token(role))
    [payload] = data.values()
    assert payload.get("errors", []) == [], payload
    result: dict[str, Any] = payload
    return result


async def _deliver(db: AsyncEngine, plugins: PluginHost) -> int:
    sessions = create_session_factory(db)
    async with sessions() as session, session.begin():  # skip any backoff wait
        await session.execute(update(Engagement).values(next_attempt_at=Engagement.created_at))
    return await outbox.run_once(sessions, plugins, POLICY)


async def _engagement(portfolio: Portfolio, service_id: str) -> dict[str, Any]:
    data = await portfolio.api.data("""query($id: ID!) { service(id: $id) { stage
        engagements { status attempts idempotencyKey contractorReference lastError
                      attemptHistory { kind outcome detail } } } }""",
                                    {"id": service_id}, portfolio.org.token(Role.VIEWER))
    [engagement] = data["service"]["engagements"]
    result: dict[str, Any] = engagement
    return result


async def test_a_cancellation_reaches_a_contractor_that_was_down_exactly_once(
        portfolio: Portfolio, contractor: Any, db: AsyncEngine,
        http_plugins: PluginHost) -> None:
    api, org = portfolio.api, portfolio.org
    registered = await _call(api, org, """mutation($settings: JSON!) { registerContractor(
        input: {name: "Acme Hosting", integration: "http_json", settings: $settings}) {
        contractor { id } errors { code message } } }""",
        {"settings": {"base_url": contractor.base_url, "timeout_seconds": 1}})
    service_id, requirements = await portfolio.in_analysis("Hosting")
    await _call(api, org, """mutation($id: ID!, $c: ID!) { addCapability(input: {
        serviceId: $id, name: "Hosting team", sourcing: CONTRACTOR, contractorId: $c}) {
        errors { code } } }""", {"id": service_id, "c": registered["contractor"]["id"]},
                Role.CONTRIBUTOR)
    for requirement in requirements:
        await portfolio.assess(requirement)
    await portfolio.add_input(service_id)
    assert (await portfolio.transition(service_id, "APPROVAL"))["errors"] == []
    await portfolio.vote(service_id, "APPROVE", org.token(Role.DECISION_MAKER))
    assert (await portfolio.transition(service_id, "CHARTERED", "go"))["errors"] == []
    assert await _deliver(db, http_plugins) == 1
    sent = await _engagement(portfolio, service_id)
    assert (sent["status"], sent["contractorReference"]) == ("SENT", "E-1")
    key = sent["idempotencyKey"]

    contractor.stop()  # down: connections are refused
    cancelled = await portfolio.transition(service_id, "CANCELLED", "the merger ended it")
    assert cancelled["errors"] == []
    assert cancelled["service"]["section"] == "TERMINATED"
    assert await _deliver(db, http_plugins) == 1
    waiting = await _engagement(portfolio, service_id)
    assert (waiting["status"], waiting["attempts"]) == ("CANCELLING", 1)
    assert waiting["lastError"].startswith(
        "plugin 'http_contractor' raised ContractorError while cancelling engagement "
        f"{key} through 'http_json'")

    contractor.start()  # back, on the same port
    assert await _deliver(db, http_plugins) == 1
    done = await _engagement(portfolio, service_id)
    assert (done["status"], done["lastError"]) == ("CANCELLED", None)
    assert done["attemptHistory"][-1] == {"kind": "CANCELLATION", "outcome": "CANCELLED",
                                          "detail": "C-E-1"}
    assert await _deliver(db, http_plugins) == 0
    assert contractor.cancelled == [key]
    assert contractor.cancellation_attempts(key) == 1
    [cancellation] = contractor.received("/cancellations")
    assert cancellation.body == {
        "idempotency_key": key, "reference": "E-1", "organisation_id": org.id,
        "service_id": cancellation.body["service_id"], "service": "Hosting",
        "capability": "Hosting team", "reason": "the merger ended it"}
    assert contractor.attempts(key) == 1  # the request itself was never sent again
