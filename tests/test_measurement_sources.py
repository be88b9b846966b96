"""Measurement sources and health models that misbehave fail only what called them.

A source that raises, hangs, answers garbage or says it has no value leaves that KPI
without a new value and UNKNOWN with the reason; the pull still succeeds and the other
KPIs' values are recorded. A health model that fails fails the health read with
PLUGIN_ERROR naming the plugin. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.app import create_app
from spm_api.plugins import (
    HealthAssessment,
    HealthModel,
    MeasurementQuery,
    MeasurementSource,
    ServiceReadings,
    Settings,
    SourcedValue,
    SourceUnavailable,
    hookimpl,
)
from spm_api.plugins.host import PluginHost
from spm_api.plugins.manager import PluginLoadError, build_plugin_manager
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings as AppSettings
from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org, serve_api
from tests.test_kpis import Kpis

SERVICE = """
query($id: ID!) {
  service(id: $id) {
    kpis { name pullError latest { value source } }
    health { status explanations { status explanation } }
  }
}"""

PULL = """
mutation($input: PullMeasurementsInput) { pullMeasurements(input: $input) {
  pulled { kpi { name } source value error } errors { code field message } } }"""


def answers(query: MeasurementQuery, settings: Settings) -> SourcedValue | SourceUnavailable:
    """Answers from the query text, so each KPI tests one behaviour."""
    if query.query == "steady":
        return SourcedValue(Decimal(settings.get("value", "99.95")))
    if query.query == "precise":
        return SourcedValue(Decimal("99.123456"))
    if query.query == "nothing":
        return SourceUnavailable("no samples for 'nothing' in the last 5 minutes")
    if query.query == "raises":
        raise ConnectionError("monitoring is down")
    return "garbage"  # type: ignore[return-value]


async def slow(_query: MeasurementQuery, _settings: Settings) -> SourcedValue:
    await asyncio.sleep(30)
    return SourcedValue(Decimal(1))


class Sources:
    @hookimpl
    def spm_measurement_sources(self) -> list[MeasurementSource]:
        return [MeasurementSource("scripted", "Scripted", "Answers from the query text.",
                                  read=answers),
                MeasurementSource("slow", "Slow", "Never answers in time.", read=slow)]


@pytest.fixture
async def api(db: AsyncEngine, settings: AppSettings) -> AsyncIterator[GraphQLClient]:
    manager = build_plugin_manager(frozenset())
    manager.register(Sources(), name="scripted_sources")
    plugins = PluginHost(manager, timeout=1.0)
    bus = EventBus("memory://")
    async with serve_api(create_app(settings, engine=db, plugins=plugins, bus=bus)) as client:
        yield client
    await bus.disconnect()
    plugins.close()


async def test_a_failing_source_leaves_its_kpi_unknown_and_the_others_are_recorded(
        api: GraphQLClient, org: Org) -> None:
    kpis = Kpis(api, org)
    service_id = await kpis.live()
    for name, source, query in [("Steady", "scripted", "steady"),
                                ("Precise", "scripted", "precise"),
                                ("Nothing", "scripted", "nothing"),
                                ("Raises", "scripted", "raises"),
                                ("Garbage", "scripted", "garbage"),
                                ("Slow", "slow", "anything")]:
        await kpis.kpi(service_id, name=name, source=source, sourceQuery=query)
    pulled = (await api.data(PULL, {"input": {"serviceId": service_id}},
                             kpis.manager))["pullMeasurements"]
    assert pulled["errors"] == []
    outcomes = {one["kpi"]["name"]: (one["value"], one["error"]) for one in pulled["pulled"]}
    assert outcomes["Steady"] == ("99.9500", None)
    assert outcomes["Precise"] == ("99.1235", None), "rounded half-up to four decimals"
    assert outcomes["Nothing"] == (None, "no samples for 'nothing' in the last 5 minutes")
    for name, words in [("Raises", "raised ConnectionError"),
                        ("Garbage", "instead of a SourcedValue or SourceUnavailable"),
                        ("Slow", "did not answer within 1 s")]:
        value, error = outcomes[name]
        assert value is None
        assert error is not None and words in error, error
        assert "error id" in error
    service = (await api.data(SERVICE, {"id": service_id},
                              org.token(Role.VIEWER)))["service"]
    by_name = {kpi["name"]: kpi for kpi in service["kpis"]}
    assert by_name["Steady"]["latest"] == {"value": "99.9500", "source": "scripted"}
    assert by_name["Raises"]["latest"] is None
    assert "raised ConnectionError" in by_name["Raises"]["pullError"]
    # Precise (99.1235) is past its warning threshold: AT_RISK outranks UNKNOWN.
    assert service["health"]["status"] == "AT_RISK"
    assert [e["status"] for e in service["health"]["explanations"]] == [
        "HEALTHY", "AT_RISK", "UNKNOWN", "UNKNOWN", "UNKNOWN", "UNKNOWN"]
    assert service["health"]["explanations"][2] == {
        "status": "UNKNOWN", "explanation": "Nothing: no current value: the source "
        "'scripted' failed: no samples for 'nothing' in the last 5 minutes"}


async def test_a_value_that_came_before_a_failing_pull_is_not_current(
        api: GraphQLClient, org: Org) -> None:
    kpis = Kpis(api, org)
    service_id = await kpis.live()
    kpi_id = await kpis.kpi(service_id, source="scripted", sourceQuery="steady")
    assert (await api.data(PULL, None, kpis.manager))["pullMeasurements"]["errors"] == []
    health = (await api.data(SERVICE, {"id": service_id}, kpis.manager))["service"]["health"]
    assert health["status"] == "HEALTHY"
    changed = await api.data("""mutation($id: ID!) { updateKpi(input: {kpiId: $id,
        sourceQuery: "nothing"}) { errors { code } } }""", {"id": kpi_id}, kpis.manager)
    assert changed["updateKpi"]["errors"] == []
    await api.data(PULL, None, kpis.manager)
    service = (await api.data(SERVICE, {"id": service_id}, kpis.manager))["service"]
    assert service["health"]["status"] == "UNKNOWN"
    fixed = await api.data("""mutation($id: ID!) { updateKpi(input: {kpiId: $id,
        sourceQuery: "steady"}) { kpi { pullError } errors { code } } }""", {"id": kpi_id},
        kpis.manager)
    assert fixed["updateKpi"] == {"kpi": {"pullError": None}, "errors": []}, \
        "a reason about the query the KPI no longer asks is dropped"
    await api.data("""mutation($id: ID!) { updateKpi(input: {kpiId: $id,
        sourceQuery: "nothing"}) { errors { code } } }""", {"id": kpi_id}, kpis.manager)
    await api.data(PULL, None, kpis.manager)
    service = (await api.data(SERVICE, {"id": service_id}, kpis.manager))["service"]
    assert service["kpis"][0]["latest"] == {"value": "99.9500", "source": "scripted"}
    assert service["health"]["status"] == "UNKNOWN"
    cleared = await api.data("""mutation($id: ID!) { updateKpi(input: {kpiId: $id,
        clearSource: true}) { errors { code } } }""", {"id": kpi_id}, kpis.manager)
    assert cleared["updateKpi"]["errors"] == []
    service = (await api.data(SERVICE, {"id": service_id}, kpis.manager))["service"]
    assert service["health"]["status"] == "HEALTHY"
    assert service["kpis"][0]["pullError"] is None


async def test_pulling_needs_the_role_and_a_service_of_ones_own(
        api: GraphQLClient, org: Org, other_org: Org) -> None:
    kpis = Kpis(api, org)
    service_id = await kpis.live()
    await kpis.kpi(service_id, source="scripted", sourceQuery="steady")
    refused = (await api.data(PULL, None, org.token(Role.FINANCE)))["pullMeasurements"]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("FORBIDDEN", None)]
    stranger = (await api.data(PULL, {"input": {"serviceId": service_id}},
                               other_org.token(Role.ADMIN)))["pullMeasurements"]
    assert [(e["code"], e["field"]) for e in stranger["errors"]] == [
        ("NOT_FOUND", "serviceId")]
    theirs = (await api.data(PULL, None, other_org.token(Role.ADMIN)))["pullMeasurements"]
    assert theirs == {"errors": [], "pulled": []}


# --- health models ----------------------------------------------------------------


def broken(_service: ServiceReadings, _settings: Settings) -> HealthAssessment:
    raise RuntimeError("the model's back end is down")


class BrokenDefault:
    @hookimpl
    def spm_health_models(self) -> list[HealthModel]:
        return [HealthModel("broken", "Broken", "Fails.", assess=broken, default=True)]


def test_a_second_default_health_model_stops_the_start() -> None:
    manager = build_plugin_manager(frozenset())
    manager.register(BrokenDefault(), name="broken_health")
    with pytest.raises(PluginLoadError, match="2 health models are marked default"):
        PluginHost(manager)


async def test_a_failing_health_model_fails_the_read_with_plugin_error(
        db: AsyncEngine, settings: AppSettings, org: Org) -> None:
    from spm_api.plugins.builtin import BUILTIN_PLUGINS

    manager = build_plugin_manager(frozenset())
    manager.unregister(BUILTIN_PLUGINS["spm_api.health.thresholds"])
    manager.register(BrokenDefault(), name="broken_health")
    plugins = PluginHost(manager, timeout=1.0)
    bus = EventBus("memory://")
    async with serve_api(create_app(settings, engine=db, plugins=plugins, bus=bus)) as api:
        kpis = Kpis(api, org)
        service_id = await kpis.live()
        body: dict[str, Any] = await api.execute(
            "query($id: ID!) { service(id: $id) { name health { status } } }",
            {"id": service_id}, org.token(Role.VIEWER))
        assert body["data"] == {"service": {"name": "Service Desk", "health": None}}
        [error] = body["errors"]
        assert error["extensions"]["code"] == "PLUGIN_ERROR"
        assert "plugin 'broken_health' raised RuntimeError" in error["message"]
        counts = await api.execute("{ portfolio { total byHealth { count } } }",
                                   token=org.token(Role.VIEWER))
        assert counts["errors"][0]["extensions"]["code"] == "PLUGIN_ERROR"
    await bus.disconnect()
    plugins.close()
