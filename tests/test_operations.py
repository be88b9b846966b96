"""What an operator sees of a running API: liveness and readiness with the reason of
each failing check, Prometheus counts after a known workload (through the planned read
lane and through the executor), request ids in headers and in masked errors, and the
open WebSocket connections and subscriptions."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.app import create_app
from spm_api.db import migrations
from spm_api.db.engine import create_engine
from spm_api.observability.logs import REQUESTS_LOGGER, JsonFormatter
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from tests.support import CREATE_SERVICE, GraphQLClient, Org, Portfolio, serve_api
from tests.ws import free_port, running, subscriber

PAGE = "query Page { services(first: 5) { totalCount edges { node { name stage } } } }"
BROKEN = "query Broken { services(first: 5) { edges { node { noSuchField } } } }"
STAGE_CHANGED = "subscription Watch { stageChanged { stageChange { toStage } } }"


def samples(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape by name and labels."""
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(scrape: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


async def scrape(http: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


@pytest.fixture
async def planned_api(db: AsyncEngine, settings: Settings, plugins: PluginHost
                      ) -> AsyncIterator[GraphQLClient]:
    """The API with the planned read lane answering on its own (not checked)."""
    bus = EventBus("memory://")
    app = create_app(settings.model_copy(update={"planned_reads": "on"}), engine=db,
                     plugins=plugins, bus=bus)
    async with serve_api(app) as client:
        yield client
    await bus.disconnect()


async def test_liveness_and_readiness(api: GraphQLClient) -> None:
    live = await api.http.get("/healthz")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    for path in ("/readyz", "/health"):  # /health: the older name, still answered
        ready = await api.http.get(path)
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ok", "checks": {
            "database": {"ok": True}, "event_bus": {"ok": True}, "plugins": {"ok": True},
            "shutdown": {"ok": True}}}


async def test_not_ready_while_shutting_down(db: AsyncEngine, settings: Settings,
                                             plugins: PluginHost) -> None:
    bus = EventBus("memory://")
    app = create_app(settings, engine=db, plugins=plugins, bus=bus)
    async with serve_api(app) as client:
        app.state.shutdown.draining = True  # what SIGTERM and the lifespan's end set
        ready = await client.http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["shutdown"] == {"ok": False, "reason": "shutting down"}
        assert (await client.http.get("/healthz")).status_code == 200
    await bus.disconnect()


async def test_readiness_names_a_database_behind_head(tmp_path: Path, plugins: PluginHost
                                                      ) -> None:
    """Behind this version's head: not ready. Ahead of it (migrated for the next
    release, during a rolling upgrade): still ready. No schema at all: not ready."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(migrations.upgrade, url, "0009")  # Alembic runs its own loop
    engine = create_engine(url)
    bus = EventBus("memory://")
    await bus.connect()
    try:
        app = create_app(Settings(database_url=url, plugins="", event_bus="memory"),
                         engine=engine, plugins=plugins, bus=bus)
        async with serve_api(app) as client:
            ready = await client.http.get("/readyz")
            assert ready.status_code == 503
            database = ready.json()["checks"]["database"]
            assert database["ok"] is False
            head = ScriptDirectory.from_config(migrations.alembic_config(url)).get_current_head()
            assert f"at migration 0009, not {head}" in database["reason"]
            assert "spm-api db upgrade" in database["reason"]
            async with engine.begin() as connection:  # a newer version migrated it
                await connection.execute(text("UPDATE alembic_version SET version_num = "
                                              "'0099_from_a_newer_release'"))
            assert (await client.http.get("/readyz")).status_code == 200
            async with engine.begin() as connection:
                await connection.execute(text("DROP TABLE alembic_version"))
            reason = (await client.http.get("/readyz")).json()["checks"]["database"]["reason"]
            assert reason.startswith("unreachable or not migrated: OperationalError")
            assert "alembic_version" in reason
    finally:
        await bus.disconnect()
        await engine.dispose()


async def test_readiness_without_the_event_bus(db: AsyncEngine, settings: Settings,
                                               plugins: PluginHost) -> None:
    """A bus that cannot connect (Redis on a port nobody listens on) fails readiness,
    unless the setting says a lost bus should not take the API out of rotation (the
    check still shows it)."""
    for required, status in ((True, 503), (False, 200)):
        bus = EventBus(f"redis://127.0.0.1:{free_port()}/0")
        app = create_app(settings.model_copy(update={"ready_requires_event_bus": required}),
                         engine=db, plugins=plugins, bus=bus)
        async with serve_api(app) as client:
            ready = await client.http.get("/readyz")
            assert ready.status_code == status, ready.text
            check = ready.json()["checks"]["event_bus"]
            assert check["ok"] is False
            assert check["reason"].startswith("cannot connect: ConnectionError"), check
            assert check.get("blocking", True) is required


async def test_request_ids(api: GraphQLClient, org: Org) -> None:
    token = org.token(Role.VIEWER)
    first = await api.http.post("/graphql", json={"query": PAGE},
                                headers={"Authorization": f"Bearer {token}"})
    second = await api.http.post("/graphql", json={"query": PAGE},
                                 headers={"Authorization": f"Bearer {token}"})
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert len(first.headers["x-request-id"]) == 16
    kept = await api.http.post("/graphql", json={"query": PAGE},
                               headers={"Authorization": f"Bearer {token}",
                                        "X-Request-Id": "edge-7f3a.1"})
    assert kept.headers["x-request-id"] == "edge-7f3a.1"
    replaced = await api.http.get("/healthz", headers={"X-Request-Id": "no spaces <here>"})
    assert replaced.headers["x-request-id"] != "no spaces <here>"
    refused = await api.http.post("/graphql", content=b"x" * 2_000_000,
                                  headers={"content-type": "application/json"})
    assert refused.status_code == 413 and refused.headers["x-request-id"]


async def test_a_masked_error_names_the_request(tmp_path: Path, plugins: PluginHost,
                                                org: Org) -> None:
    """An unexpected failure (here a table gone from under the API) is masked; its
    message and extensions name the request, whose id the response header carries."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'broken.db'}"
    await asyncio.to_thread(migrations.upgrade, url)
    engine = create_engine(url)
    from tests.support import make_org

    broken_org = await make_org(engine, "broken")
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE requirement"))
    bus = EventBus("memory://")
    try:
        app = create_app(Settings(database_url=url, plugins="", event_bus="memory",
                                  planned_reads="off"), engine=engine, plugins=plugins, bus=bus)
        async with serve_api(app) as client:
            await Portfolio(client, broken_org).create("Mail")
            response = await client.http.post(
                "/graphql", json={"query": "{ services(first: 1) { edges { node { "
                                           "requirements { text } } } } }"},
                headers={"Authorization": f"Bearer {broken_org.token(Role.VIEWER)}",
                         "X-Request-Id": "trace-42"})
            error = response.json()["errors"][0]
            assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
            assert error["extensions"]["requestId"] == "trace-42"
            assert "request trace-42" in error["message"]
            assert response.headers["x-request-id"] == "trace-42"
    finally:
        await bus.disconnect()
        await engine.dispose()


async def test_metrics_count_a_known_workload(planned_api: GraphQLClient, org: Org) -> None:
    """Queries the planned lane answers and those the executor answers, mutations,
    an operation with errors and a refused request, each counted once by name, type and
    outcome, with their SQL; the event bus's messages and the plugins' calls too."""
    http = planned_api.http
    portfolio = Portfolio(planned_api, org)
    viewer = {"Authorization": f"Bearer {org.token(Role.VIEWER)}"}
    before = await scrape(http)
    for name in ("Mail", "Chat"):
        await portfolio.create(name)
    for _ in range(3):  # the planned lane
        assert (await http.post("/graphql", json={"query": PAGE}, headers=viewer)
                ).status_code == 200
    await planned_api.data("query Who { viewer { name roles } }", token=org.token(Role.ADMIN))
    body = await planned_api.execute(BROKEN, token=org.token(Role.VIEWER))
    assert body["errors"]
    assert (await http.post("/graphql", content=b"{", headers={
        "content-type": "application/json"})).status_code == 400
    service_id = await portfolio.in_approval("Voting")
    await portfolio.approval(service_id)  # the approval rules (plugins) are asked
    after = await scrape(http)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("spm_requests_total", operation="Page", type="query", outcome="ok") == 3
    assert delta("spm_request_duration_seconds_count", operation="Page", type="query") == 3
    assert delta("spm_requests_total", operation="anonymous", type="mutation",
                 outcome="ok") >= 2
    assert delta("spm_requests_total", operation="Who", type="query", outcome="ok") == 1
    assert delta("spm_requests_total", operation="Broken", type="query",
                 outcome="error") == 1
    assert delta("spm_requests_total", operation="-", type="-", outcome="refused") == 1
    requests = sum(v - value(before, n, **dict(labels)) for (n, labels), v in after.items()
                   if n == "spm_requests_total")
    assert delta("spm_request_sql_statements_count") == requests
    assert delta("spm_request_sql_duration_seconds_count") == requests
    # Each planned page: the token and the page, at least; none for the refusal.
    assert delta("spm_request_sql_statements_sum") >= 3 * 2
    assert delta("spm_events_published_total", kind="StageChangedMessage") >= 2
    plugin_calls = {dict(labels)["plugin"] for (name, labels), v in after.items()
                    if name == "spm_plugin_calls_total"
                    and v > value(before, name, **dict(labels))}
    assert plugin_calls, "asking the approval rules calls plugins"
    assert "spm_outbox_backlog" in {name for name, _ in after}
    assert value(after, "spm_outbox_backlog") == 0


async def test_charging_runs_are_counted_by_purpose(planned_api: GraphQLClient, org: Org
                                                   ) -> None:
    http = planned_api.http
    before = await scrape(http)
    await planned_api.data('{ chargingRun(period: "2026-03") { period } }',
                           token=org.token(Role.FINANCE))
    for _ in range(2):
        issued = await planned_api.data(
            'mutation { issueStatements(input: {period: "2026-03"}) { errors { code } } }',
            token=org.token(Role.FINANCE))
        assert issued["issueStatements"]["errors"] == []
    after = await scrape(http)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("spm_charging_runs_total", purpose="dry_run", outcome="ok") == 1
    assert delta("spm_charging_runs_total", purpose="issue", outcome="ok") == 2
    assert delta("spm_charging_run_duration_seconds_count", purpose="issue") == 2
    assert ("spm_charging_run_lines_total", frozenset({("purpose", "issue")})) in after


async def test_metrics_can_be_turned_off(db: AsyncEngine, settings: Settings,
                                         plugins: PluginHost) -> None:
    bus = EventBus("memory://")
    app = create_app(settings.model_copy(update={"metrics": False}), engine=db,
                     plugins=plugins, bus=bus)
    async with serve_api(app) as client:
        assert (await client.http.get("/metrics")).status_code == 404


async def test_open_connections_and_subscriptions(db: AsyncEngine, settings: Settings,
                                                  plugins: PluginHost, org: Org) -> None:
    bus = EventBus("memory://")
    app = create_app(settings, engine=db, plugins=plugins, bus=bus)
    async with running(app) as address, httpx.AsyncClient(base_url=f"http://{address}") as http:
        before = await scrape(http)
        async with subscriber(address, org.token(Role.VIEWER)) as watching:
            await watching.subscribe(STAGE_CHANGED)
            await watching.subscribe(STAGE_CHANGED, {"unused": 1})
            client = GraphQLClient(http)
            await client.data(CREATE_SERVICE, {"input": {
                "name": "Mail", "investmentCategory": "RUN", "objectives": "mail"}},
                org.token(Role.CONTRIBUTOR))
            await watching.next_data()
            await watching.next_data()
            during = await scrape(http)
        for _ in range(50):  # the server notices the close
            after = await scrape(http)
            if value(after, "spm_websocket_connections") == value(
                    before, "spm_websocket_connections"):
                break
    assert value(during, "spm_websocket_connections") - value(
        before, "spm_websocket_connections") == 1
    assert value(during, "spm_subscriptions") - value(before, "spm_subscriptions") == 2
    assert value(during, "spm_events_delivered_total", path="shared") - value(
        before, "spm_events_delivered_total", path="shared") == 2
    # Two groups (other variables), each timed from the publication to its sockets.
    assert value(during, "spm_event_fanout_seconds_count") - value(
        before, "spm_event_fanout_seconds_count") == 2
    assert value(during, "spm_event_fanout_seconds_sum") > value(
        before, "spm_event_fanout_seconds_sum")
    assert value(after, "spm_websocket_connections") == value(
        before, "spm_websocket_connections")
    assert value(after, "spm_subscriptions") == value(before, "spm_subscriptions")


class Lines(logging.Handler):
    """The formatted lines of a logger, as its JSON handler writes them."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_one_json_line_per_request(db: AsyncEngine, settings: Settings,
                                         plugins: PluginHost, org: Org) -> None:
    bus = EventBus("memory://")
    app = create_app(settings.model_copy(update={"log_format": "json"}), engine=db,
                     plugins=plugins, bus=bus)
    captured = Lines()
    logger = logging.getLogger(REQUESTS_LOGGER)
    logger.addHandler(captured)
    try:
        async with serve_api(app) as client:
            viewer = {"Authorization": f"Bearer {org.token(Role.VIEWER)}"}
            answered = await client.http.post("/graphql", json={"query": PAGE},
                                              headers=viewer)
            await client.http.post("/graphql", json={"query": BROKEN}, headers=viewer)
            await client.http.get("/readyz")  # probes are not logged
    finally:
        logger.removeHandler(captured)
    assert len(captured.lines) == 2
    page, broken = (json.loads(line) for line in captured.lines)
    assert page["request_id"] == answered.headers["x-request-id"]
    assert page["logger"] == REQUESTS_LOGGER and page["level"] == "INFO"
    assert (page["operation"], page["operation_type"], page["outcome"]) == (
        "Page", "query", "ok")
    assert (page["organisation"], page["person"]) == (org.id, org.person_ids[Role.VIEWER])
    assert page["status"] == 200 and page["method"] == "POST" and page["path"] == "/graphql"
    assert page["statements"] >= 2 and page["duration_ms"] > 0 and page["sql_ms"] > 0
    assert (broken["operation"], broken["outcome"]) == ("Broken", "error")
