"""End to end through SPM API: KPIs read from a Prometheus-style server on a loopback
port. Values arrive when measurements are pulled (``pullMeasurements`` and ``spm-api
measurements pull``); with the server down the pull still succeeds, the KPI keeps its
reason and the service's health is UNKNOWN with it; once the server is back, values
arrive again."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_server import PrometheusServer
from test_prometheus_source import needs_installing

from spm_api.app import create_app
from spm_api.db import migrations
from spm_api.db.engine import create_engine
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org, Portfolio, make_org

pytestmark = needs_installing

SERVICE = """
query($id: ID!) {
  service(id: $id) {
    kpis { name pullError latest { value source } }
    health { status explanations { status explanation } }
  }
}"""

PULL = """
mutation { pullMeasurements { pulled { kpi { name } source value error }
                              errors { code field message } } }"""


@dataclass
class Stack:
    api: GraphQLClient
    org: Org
    database: str

    async def call(self, query: str, variables: dict[str, Any] | None = None,
                   role: Role = Role.PORTFOLIO_MANAGER) -> Any:
        return await self.api.data(query, variables, self.org.token(role))


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def prometheus() -> Iterator[PrometheusServer]:
    server = PrometheusServer(values={"avg(up{job='mail'})": 0.9995,
                                      "histogram_quantile(0.95, latency)": 0.42}).start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'spm.db'}"
    migrations.upgrade(url)
    return url


@pytest.fixture
async def stack(database: str) -> AsyncIterator[Stack]:
    engine = create_engine(database)
    org = await make_org(engine, "acme")
    plugins = PluginHost.load(frozenset({"prometheus_source"}), timeout=3.0)
    bus = EventBus("memory://")
    app = create_app(Settings(database_url=database, plugins="prometheus_source",
                              event_bus="memory", planned_reads="check"),
                     engine=engine, plugins=plugins, bus=bus)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as http:
        yield Stack(GraphQLClient(http), org, database)
    await bus.disconnect()
    plugins.close()
    await engine.dispose()


async def _live_service_with_kpis(stack: Stack, prometheus: PrometheusServer) -> str:
    configured = await stack.call("""mutation($s: JSON!) { configurePlugin(input: {
        plugin: "prometheus_source", settings: $s}) { errors { code message } } }""",
                                  {"s": {"base_url": prometheus.base_url,
                                         "timeout_seconds": 1}}, Role.ADMIN)
    assert configured["configurePlugin"]["errors"] == []
    portfolio = Portfolio(stack.api, stack.org)
    service_id = await portfolio.chartered("Mail")
    assert (await portfolio.transition(service_id, "LIVE"))["errors"] == []
    for name, expression, direction, numbers in [
            ("Availability", "avg(up{job='mail'})", "HIGHER_IS_BETTER", ("0.999", "0.995",
                                                                         "0.99")),
            ("Latency p95", "histogram_quantile(0.95, latency)", "LOWER_IS_BETTER",
             ("0.3", "0.5", "1"))]:
        defined = await stack.call("""mutation($input: DefineKpiInput!) { defineKpi(input:
            $input) { kpi { id source sourceQuery } errors { code field message } } }""",
            {"input": {"serviceId": service_id, "name": name, "direction": direction,
                       "target": numbers[0], "warningThreshold": numbers[1],
                       "breachThreshold": numbers[2], "source": "prometheus",
                       "sourceQuery": expression}})
        assert defined["defineKpi"]["errors"] == [], defined
    return service_id


async def test_values_arrive_and_a_down_source_leaves_the_kpi_unknown_with_the_reason(
        stack: Stack, prometheus: PrometheusServer) -> None:
    service_id = await _live_service_with_kpis(stack, prometheus)
    pulled = (await stack.call(PULL))["pullMeasurements"]
    assert pulled == {"errors": [], "pulled": [
        {"kpi": {"name": "Availability"}, "source": "prometheus", "value": "0.9995",
         "error": None},
        {"kpi": {"name": "Latency p95"}, "source": "prometheus", "value": "0.4200",
         "error": None}]}
    service = (await stack.call(SERVICE, {"id": service_id}, Role.VIEWER))["service"]
    assert [(kpi["pullError"], kpi["latest"]) for kpi in service["kpis"]] == [
        (None, {"value": "0.9995", "source": "prometheus"}),
        (None, {"value": "0.4200", "source": "prometheus"})]
    assert service["health"]["status"] == "HEALTHY"

    prometheus.stop()
    pulled = (await stack.call(PULL))["pullMeasurements"]
    url = f"{prometheus.base_url}/api/v1/query"
    assert pulled["errors"] == []
    assert [one["error"] for one in pulled["pulled"]] == [
        f"could not connect to {url}: Connection refused"] * 2
    assert all(one["value"] is None for one in pulled["pulled"])
    service = (await stack.call(SERVICE, {"id": service_id}, Role.VIEWER))["service"]
    assert service["kpis"][0]["pullError"] == f"could not connect to {url}: Connection refused"
    assert service["health"] == {"status": "UNKNOWN", "explanations": [
        {"status": "UNKNOWN",
         "explanation": f"{name}: no current value: the source 'prometheus' failed: could "
                        f"not connect to {url}: Connection refused"}
        for name in ("Availability", "Latency p95")]}

    prometheus.values["avg(up{job='mail'})"] = 0.98
    prometheus.start()
    await asyncio.sleep(0.01)  # a new sample time
    pulled = (await stack.call(PULL))["pullMeasurements"]
    assert [one["error"] for one in pulled["pulled"]] == [None, None]
    health = (await stack.call(SERVICE, {"id": service_id}, Role.VIEWER))["service"]["health"]
    assert health["status"] == "FAILING"
    assert prometheus.asked.count("avg(up{job='mail'})") == 2  # none while it was down


async def test_only_portfolio_managers_and_admins_pull(
        stack: Stack, prometheus: PrometheusServer) -> None:
    await _live_service_with_kpis(stack, prometheus)
    refused = (await stack.call(PULL, role=Role.CONTRIBUTOR))["pullMeasurements"]
    assert [error["code"] for error in refused["errors"]] == ["FORBIDDEN"]
    assert prometheus.asked == []


async def test_the_command_pulls_too(stack: Stack, prometheus: PrometheusServer,
                                     tmp_path: Path) -> None:
    service_id = await _live_service_with_kpis(stack, prometheus)
    env = {**os.environ, "SPM_DATABASE_URL": stack.database,
           "SPM_PLUGINS": "prometheus_source"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "spm_api.cli", "measurements", "pull", "--org", "acme",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        cwd=tmp_path)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().splitlines()[-1] == "pulled 2 of 2 KPIs with a source"
    service = (await stack.call(SERVICE, {"id": service_id}, Role.VIEWER))["service"]
    assert service["kpis"][0]["latest"] == {"value": "0.9995", "source": "prometheus"}
