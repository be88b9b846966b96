"""KPIs of live services through GraphQL: defining them (and who may), recording values
one at a time or in an all-or-nothing batch, the built-in kinds worked out from the
books, health with an explanation per KPI, the portfolio's health counts and filter,
tenancy, and ``kpiBreached`` over a real WebSocket. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.app import create_app
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from spm_api.vocabulary.periods import Period
from tests.support import GraphQLClient, Org, Portfolio
from tests.ws import running, subscriber

DEFINE = """
mutation($input: DefineKpiInput!) {
  defineKpi(input: $input) {
    kpi { id name unit kind direction target warningThreshold breachThreshold source
          sourceQuery service { id } }
    errors { code field message }
  }
}"""

UPDATE = """
mutation($input: UpdateKpiInput!) {
  updateKpi(input: $input) {
    kpi { id name target warningThreshold breachThreshold }
    errors { code field message }
  }
}"""

DELETE = """
mutation($input: DeleteKpiInput!) {
  deleteKpi(input: $input) { deletedId errors { code field message } }
}"""

RECORD = """
mutation($input: MeasurementInput!) {
  recordMeasurement(input: $input) {
    measurement { period at value source }
    errors { code field message }
  }
}"""

RECORD_MANY = """
mutation($input: RecordMeasurementsInput!) {
  recordMeasurements(input: $input) {
    measurements { period value }
    errors { code field message }
  }
}"""

SERVICE = """
query($id: ID!) {
  service(id: $id) {
    stage
    kpis { name kind unit latest { period value source } }
    health { status explanation model explanations { status explanation kpi { name } } }
  }
}"""

MEASUREMENTS = """
query($id: ID!, $first: Int, $after: String) {
  node(id: $id) { ... on Kpi {
    measurements(first: $first, after: $after) {
      totalCount
      edges { cursor node { period value source } }
      pageInfo { hasNextPage endCursor }
    }
  } }
}"""

THIS_MONTH = Period(date.today().year, date.today().month)


def months_back(count: int) -> list[str]:
    """The ``count`` months up to this one, oldest first."""
    return [str(THIS_MONTH.shifted(-offset)) for offset in range(count - 1, -1, -1)]


class Kpis:
    """Defines KPIs and records values over GraphQL as a portfolio manager."""

    def __init__(self, api: GraphQLClient, org: Org) -> None:
        self.api = api
        self.org = org
        self.portfolio = Portfolio(api, org)

    @property
    def manager(self) -> str:
        return self.org.token(Role.PORTFOLIO_MANAGER)

    async def live(self, name: str = "Service Desk") -> str:
        service_id = await self.portfolio.chartered(name)
        moved = await self.portfolio.transition(service_id, "LIVE")
        assert moved["errors"] == [], moved["errors"]
        return service_id

    async def define(self, service_id: str, token: str | None = None, **fields: Any
                     ) -> dict[str, Any]:
        given = {"serviceId": service_id, "name": "Availability", "unit": "%",
                 "direction": "HIGHER_IS_BETTER", "target": "99.9",
                 "warningThreshold": "99.5", "breachThreshold": "99", **fields}
        data = await self.api.data(DEFINE, {"input": given}, token or self.manager)
        payload: dict[str, Any] = data["defineKpi"]
        return payload

    async def kpi(self, service_id: str, **fields: Any) -> str:
        payload = await self.define(service_id, **fields)
        assert payload["errors"] == [], payload["errors"]
        kpi_id: str = payload["kpi"]["id"]
        return kpi_id

    async def record(self, kpi_id: str, value: str, period: str | None = None,
                     token: str | None = None, **fields: Any) -> dict[str, Any]:
        given = {"kpiId": kpi_id, "value": value, **fields}
        if period is not None:
            given["period"] = period
        data = await self.api.data(RECORD, {"input": given}, token or self.manager)
        payload: dict[str, Any] = data["recordMeasurement"]
        return payload

    async def service(self, service_id: str, token: str | None = None) -> dict[str, Any]:
        data = await self.api.data(SERVICE, {"id": service_id},
                                   token or self.org.token(Role.VIEWER))
        found: dict[str, Any] = data["service"]
        return found


@pytest.fixture
def kpis(api: GraphQLClient, org: Org) -> Kpis:
    return Kpis(api, org)


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(error["code"], error["field"]) for error in payload["errors"]]


# --- defining ------------------------------------------------------------------------


async def test_a_portfolio_manager_defines_a_kpi_of_a_service(kpis: Kpis) -> None:
    service_id = await kpis.live()
    payload = await kpis.define(service_id)
    assert payload["errors"] == []
    assert payload["kpi"] | {"id": None} == {
        "id": None, "name": "Availability", "unit": "%", "kind": "MEASURED",
        "direction": "HIGHER_IS_BETTER", "target": "99.9000",
        "warningThreshold": "99.5000", "breachThreshold": "99.0000", "source": None,
        "sourceQuery": "", "service": {"id": service_id}}
    service = await kpis.service(service_id)
    assert service["kpis"] == [{"name": "Availability", "kind": "MEASURED", "unit": "%",
                                "latest": None}]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CONTRIBUTOR, Role.DECISION_MAKER,
                                  Role.FINANCE])
async def test_only_portfolio_managers_and_admins_define_kpis_and_record_values(
        kpis: Kpis, org: Org, role: Role) -> None:
    service_id = await kpis.live()
    refused = await kpis.define(service_id, token=org.token(role))
    assert refused["kpi"] is None
    assert codes(refused) == [("FORBIDDEN", None)]
    assert "portfolio_manager" in refused["errors"][0]["message"].lower()
    kpi_id = await kpis.kpi(service_id)
    recorded = await kpis.record(kpi_id, "99.95", THIS_MONTH.__str__(), token=org.token(role))
    assert codes(recorded) == [("FORBIDDEN", None)]
    admin = await kpis.define(service_id, token=org.token(Role.ADMIN), name="Latency",
                              direction="LOWER_IS_BETTER", target="200",
                              warningThreshold="300", breachThreshold="500", unit="ms")
    assert admin["errors"] == []


async def test_a_bad_definition_is_refused_with_every_problem_and_nothing_written(
        kpis: Kpis) -> None:
    service_id = await kpis.live()
    payload = await kpis.define(service_id, name="  ", target="99.12345",
                                warningThreshold="99.95", breachThreshold="lots")
    assert payload["kpi"] is None
    assert sorted(codes(payload)) == [("VALIDATION", "breachThreshold"),
                                      ("VALIDATION", "name"), ("VALIDATION", "target")]
    out_of_order = await kpis.define(service_id, target="99", warningThreshold="99.5",
                                     breachThreshold="98")
    assert codes(out_of_order) == [("VALIDATION", "warningThreshold")]
    assert "HIGHER_IS_BETTER" in out_of_order["errors"][0]["message"]
    lower = await kpis.define(service_id, direction="LOWER_IS_BETTER")
    assert codes(lower) == [("VALIDATION", "warningThreshold")]
    assert (await kpis.service(service_id))["kpis"] == []


async def test_kpi_names_are_unique_per_service_and_sources_must_be_installed(
        kpis: Kpis) -> None:
    service_id = await kpis.live()
    await kpis.kpi(service_id)
    again = await kpis.define(service_id)
    assert codes(again) == [("VALIDATION", "name")]
    unknown = await kpis.define(service_id, name="Errors", source="nagios",
                                sourceQuery="errors_total")
    assert codes(unknown) == [("VALIDATION", "source")]
    assert "no measurement source 'nagios' is installed" in unknown["errors"][0]["message"]
    built_in = await kpis.define(service_id, name="Recovery", kind="COST_RECOVERY_RATE",
                                 source="nagios", sourceQuery="x")
    assert ("VALIDATION", "source") in codes(built_in)
    orphan_query = await kpis.define(service_id, name="Orphan", sourceQuery="up")
    assert codes(orphan_query) == [("VALIDATION", "source")]


async def test_a_kpi_is_updated_and_deleted_with_its_measurements(kpis: Kpis) -> None:
    service_id = await kpis.live()
    kpi_id = await kpis.kpi(service_id)
    assert (await kpis.record(kpi_id, "99.2", str(THIS_MONTH)))["errors"] == []
    data = await kpis.api.data(UPDATE, {"input": {
        "kpiId": kpi_id, "target": "99.5", "warningThreshold": "99.3",
        "breachThreshold": "99.1"}}, kpis.manager)
    assert data["updateKpi"]["errors"] == []
    assert data["updateKpi"]["kpi"]["warningThreshold"] == "99.3000"
    health = (await kpis.service(service_id))["health"]
    assert health["status"] == "AT_RISK"
    wrong = await kpis.api.data(UPDATE, {"input": {"kpiId": kpi_id, "breachThreshold": "99.4"}},
                                kpis.manager)
    assert codes(wrong["updateKpi"]) == [("VALIDATION", "warningThreshold")]
    refused = await kpis.api.data(DELETE, {"input": {"kpiId": kpi_id}},
                                  kpis.org.token(Role.CONTRIBUTOR))
    assert codes(refused["deleteKpi"]) == [("FORBIDDEN", None)]
    deleted = await kpis.api.data(DELETE, {"input": {"kpiId": kpi_id}}, kpis.manager)
    assert deleted["deleteKpi"] == {"deletedId": kpi_id, "errors": []}
    assert (await kpis.service(service_id))["kpis"] == []
    again = await kpis.api.data(DELETE, {"input": {"kpiId": kpi_id}}, kpis.manager)
    assert codes(again["deleteKpi"]) == [("NOT_FOUND", "kpiId")]


# --- values and health ----------------------------------------------------------------


async def test_health_follows_the_latest_value_with_an_explanation_per_kpi(
        kpis: Kpis) -> None:
    service_id = await kpis.live()
    availability = await kpis.kpi(service_id)
    latency = await kpis.kpi(service_id, name="Latency", unit="ms",
                             direction="LOWER_IS_BETTER", target="200",
                             warningThreshold="300", breachThreshold="500")
    health = (await kpis.service(service_id))["health"]
    assert health["status"] == "UNKNOWN"
    assert health["model"] == "thresholds"
    assert [e["explanation"] for e in health["explanations"]] == [
        "Availability: nothing measured yet", "Latency: nothing measured yet"]

    earlier, now = months_back(2)
    assert (await kpis.record(availability, "98.5", earlier))["errors"] == []
    assert (await kpis.record(availability, "99.95", now))["errors"] == []
    recorded = await kpis.record(latency, "320", now)
    assert recorded["errors"] == []
    assert recorded["measurement"] == {"period": now, "at": f"{now}-01T00:00:00+00:00",
                                       "value": "320.0000", "source": "manual"}
    service = await kpis.service(service_id)
    assert [kpi["latest"] for kpi in service["kpis"]] == [
        {"period": now, "value": "99.9500", "source": "manual"},
        {"period": now, "value": "320.0000", "source": "manual"}]
    health = service["health"]
    assert health["status"] == "AT_RISK"
    assert health["explanation"] == "1 of 2 KPIs at risk: Latency"
    assert health["explanations"] == [
        {"status": "HEALTHY", "kpi": {"name": "Availability"},
         "explanation": f"Availability is 99.95 % ({now}), meeting the target 99.9 %, "
                        "higher is better"},
        {"status": "AT_RISK", "kpi": {"name": "Latency"},
         "explanation": f"Latency is 320 ms ({now}), past the warning threshold 300 ms "
                        "(target 200 ms, lower is better)"}]

    assert (await kpis.record(latency, "650", at="2020-01-01T00:00:00Z"))["errors"] == []
    assert (await kpis.service(service_id))["health"]["status"] == "AT_RISK", \
        "an older value does not replace the current one"
    assert (await kpis.record(latency, "650.5", at=_recent_instant()))["errors"] == []
    health = (await kpis.service(service_id))["health"]
    assert health["status"] == "FAILING"
    assert "past the breach threshold 500 ms" in health["explanations"][1]["explanation"]


def _recent_instant() -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) - timedelta(seconds=5)).isoformat()


async def test_only_live_services_have_a_health(kpis: Kpis) -> None:
    proposal = await kpis.portfolio.create("Proposal")
    kpi_id = await kpis.kpi(proposal["id"])
    assert (await kpis.record(kpi_id, "90", str(THIS_MONTH)))["errors"] == []
    service = await kpis.service(proposal["id"])
    assert service["stage"] == "DEFINITION"
    assert service["health"] is None
    assert service["kpis"][0]["latest"]["value"] == "90.0000"


async def test_a_retiring_service_keeps_its_health_until_it_ends(kpis: Kpis) -> None:
    service_id = await kpis.live()
    kpi_id = await kpis.kpi(service_id)
    assert (await kpis.record(kpi_id, "98.5", str(THIS_MONTH)))["errors"] == []
    end = date.today() + timedelta(days=30)
    moved = await kpis.portfolio.transition(service_id, "RETIRING", "replaced",
                                            planned_end_date=end.isoformat())
    assert moved["errors"] == []
    service = await kpis.service(service_id)
    assert service["stage"] == "RETIRING"
    assert service["health"]["status"] == "FAILING"  # past the breach threshold of 99


async def test_bad_values_are_refused_with_codes(kpis: Kpis) -> None:
    service_id = await kpis.live()
    kpi_id = await kpis.kpi(service_id)
    cases = [
        (await kpis.record(kpi_id, "99.12345", str(THIS_MONTH)), [("VALIDATION", "value")]),
        (await kpis.record(kpi_id, "NaN", str(THIS_MONTH)), [("VALIDATION", "value")]),
        (await kpis.record(kpi_id, "1e20", str(THIS_MONTH)), [("VALIDATION", "value")]),
        (await kpis.record(kpi_id, "99", "2026-13"), [("VALIDATION", "period")]),
        (await kpis.record(kpi_id, "99", str(THIS_MONTH.shifted(1))),
         [("VALIDATION", "period")]),
        (await kpis.record(kpi_id, "99"), [("VALIDATION", "period")]),
        (await kpis.record(kpi_id, "99", str(THIS_MONTH), at=_recent_instant()),
         [("VALIDATION", "period")]),
        (await kpis.record(kpi_id, "99", at="2999-01-01T00:00:00Z"), [("VALIDATION", "at")]),
        (await kpis.record("S3BpOjk5OTk5", "99", str(THIS_MONTH)), [("NOT_FOUND", "kpiId")]),
    ]
    for payload, expected in cases:
        assert payload["measurement"] is None
        assert codes(payload) == expected, payload
    assert (await kpis.record(kpi_id, "99", str(THIS_MONTH)))["errors"] == []
    twice = await kpis.record(kpi_id, "98", str(THIS_MONTH))
    assert codes(twice) == [("VALIDATION", "period")]
    assert "already has a value" in twice["errors"][0]["message"]


async def test_a_batch_is_recorded_whole_or_not_at_all_with_every_bad_item_indexed(
        kpis: Kpis) -> None:
    service_id = await kpis.live()
    kpi_id = await kpis.kpi(service_id)
    months = months_back(4)
    bad = await kpis.api.data(RECORD_MANY, {"input": {"measurements": [
        {"kpiId": kpi_id, "value": "99.9", "period": months[0]},
        {"kpiId": kpi_id, "value": "abc", "period": months[1]},
        {"kpiId": kpi_id, "value": "99.8", "period": months[0]},
        {"kpiId": "not-an-id", "value": "99", "period": months[2]},
        {"kpiId": kpi_id, "value": "99.7", "period": months[3]},
    ]}}, kpis.manager)
    payload = bad["recordMeasurements"]
    assert payload["measurements"] == []
    assert codes(payload) == [("VALIDATION", "measurements.1.value"),
                              ("VALIDATION", "measurements.2.period"),
                              ("NOT_FOUND", "measurements.3.kpiId")]
    assert payload["errors"][1]["message"].startswith("measurement 2: ")
    assert "also measurement 0" in payload["errors"][1]["message"]
    assert (await kpis.service(service_id))["kpis"][0]["latest"] is None

    good = await kpis.api.data(RECORD_MANY, {"input": {"measurements": [
        {"kpiId": kpi_id, "value": value, "period": month}
        for value, month in zip(["99.9", "99.8", "99.7", "99.6"], months, strict=True)]}},
        kpis.manager)
    assert good["recordMeasurements"]["errors"] == []
    assert len(good["recordMeasurements"]["measurements"]) == 4
    empty = await kpis.api.data(RECORD_MANY, {"input": {"measurements": []}}, kpis.manager)
    assert codes(empty["recordMeasurements"]) == [("VALIDATION", "measurements")]


async def test_measurements_are_paged_newest_first(kpis: Kpis) -> None:
    service_id = await kpis.live()
    kpi_id = await kpis.kpi(service_id)
    months = months_back(12)
    await kpis.api.data(RECORD_MANY, {"input": {"measurements": [
        {"kpiId": kpi_id, "value": str(90 + index), "period": month}
        for index, month in enumerate(months)]}}, kpis.manager)
    first = (await kpis.api.data(MEASUREMENTS, {"id": kpi_id, "first": 5},
                                 kpis.org.token(Role.VIEWER)))["node"]["measurements"]
    assert first["totalCount"] == 12
    assert [edge["node"]["period"] for edge in first["edges"]] == months[::-1][:5]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await kpis.api.data(MEASUREMENTS, {
        "id": kpi_id, "first": 50, "after": first["pageInfo"]["endCursor"]},
        kpis.org.token(Role.VIEWER)))["node"]["measurements"]
    assert [edge["node"]["value"] for edge in rest["edges"]] == [
        f"{90 + index}.0000" for index in range(6, -1, -1)]


# --- built-in kinds -------------------------------------------------------------------


async def test_built_in_kinds_are_worked_out_from_the_books(kpis: Kpis) -> None:
    api, org = kpis.api, kpis.org
    finance = org.token(Role.FINANCE)
    service_id = await kpis.live()
    customers = []
    for name in ("Sales", "Legal"):
        data = await api.data("""mutation($name: String!) { createCustomer(input: {
            name: $name, kind: INTERNAL_DEPARTMENT}) { customer { id } errors { code } } }""",
                              {"name": name}, finance)
        customers.append(data["createCustomer"]["customer"]["id"])
    month = str(THIS_MONTH.shifted(-1))
    first_day = f"{month}-10"
    for query, variables in [
        ("""mutation($s: ID!, $d: Date!) { recordCost(input: {serviceId: $s, bookedOn: $d,
            category: "labour", amount: {amount: "1000.00", currency: "EUR"}}) {
            errors { code message } } }""", {"s": service_id, "d": first_day}),
        ("""mutation($s: ID!, $p: String!) { setBudgetLine(input: {serviceId: $s,
            period: $p, category: "labour", amount: {amount: "800.00", currency: "EUR"}}) {
            errors { code message } } }""", {"s": service_id, "p": month}),
    ]:
        data = await api.data(query, variables, finance)
        assert all(not value["errors"] for value in data.values()), data
    for customer, quantity in zip(customers, ["150", "50"], strict=True):
        data = await api.data("""mutation($c: ID!, $s: ID!, $p: String!, $q: String!) {
            recordUsage(input: {customerId: $c, serviceId: $s, period: $p, quantity: $q,
            unit: "GB"}) { errors { code message } } }""",
                              {"c": customer, "s": service_id, "p": month, "q": quantity},
                              finance)
        assert data["recordUsage"]["errors"] == []
    built_in = {
        "COST_PER_UNIT": ("5", "LOWER_IS_BETTER", "4", "6", "8"),
        "BUDGET_VARIANCE": ("25", "LOWER_IS_BETTER", "0", "10", "20"),
        "ACTIVE_CUSTOMERS": ("2", "HIGHER_IS_BETTER", "2", "1", "0"),
        "USAGE_VOLUME": ("200", "HIGHER_IS_BETTER", "100", "50", "10"),
        "COST_RECOVERY_RATE": (None, "HIGHER_IS_BETTER", "100", "90", "50"),
    }
    for kind, (_, direction, target, warning, breach) in built_in.items():
        payload = await kpis.define(service_id, name=kind.title(), kind=kind, unit="",
                                    direction=direction, target=target,
                                    warningThreshold=warning, breachThreshold=breach)
        assert payload["errors"] == [], payload
    service = await kpis.service(service_id)
    values = {kpi["kind"]: kpi["latest"] for kpi in service["kpis"]}
    units = {kpi["kind"]: kpi["unit"] for kpi in service["kpis"]}
    for kind, (expected, *_rest) in built_in.items():
        if expected is None:
            assert values[kind] is None, "no charges issued: nothing recovered to compare"
        else:
            assert values[kind] is not None, kind
            assert values[kind]["period"] == month
            assert values[kind]["source"] == "computed"
            assert values[kind]["value"].rstrip("0").rstrip(".") == expected, kind
    assert units["COST_PER_UNIT"] == "EUR per unit"
    assert units["BUDGET_VARIANCE"] == "%"
    statuses = {e["kpi"]["name"]: e["status"] for e in service["health"]["explanations"]}
    assert statuses == {"Cost_Per_Unit": "HEALTHY", "Budget_Variance": "FAILING",
                        "Active_Customers": "HEALTHY", "Usage_Volume": "HEALTHY",
                        "Cost_Recovery_Rate": "UNKNOWN"}
    kpi_id = next(kpi for kpi in (await api.data(
        "query($id: ID!) { service(id: $id) { kpis { id kind } } }", {"id": service_id},
        finance))["service"]["kpis"] if kpi["kind"] == "USAGE_VOLUME")["id"]
    page = (await api.data(MEASUREMENTS, {"id": kpi_id, "first": 10},
                           finance))["node"]["measurements"]
    assert page["totalCount"] == 1
    assert page["edges"][0]["node"] == {"period": month, "value": "200.0000",
                                        "source": "computed"}
    refused = await kpis.record(kpi_id, "5", month)
    assert codes(refused) == [("VALIDATION", "kpiId")]


# --- the portfolio ------------------------------------------------------------------------


@pytest.mark.parametrize("listed", ["listed", "whole organisation"])
async def test_the_portfolio_counts_and_filters_live_services_by_health(
        kpis: Kpis, other_org: Org, listed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if listed != "listed":  # as for a portfolio too large to list its ids
        monkeypatch.setattr("spm_api.domain.stewardship.scope.MAX_LISTED", 0)
    stranger = Kpis(kpis.api, other_org)
    theirs = await stranger.kpi(await stranger.live("Their Mail"))
    assert (await stranger.record(theirs, "50", str(THIS_MONTH)))["errors"] == []
    healthy, failing, unmeasured = (await kpis.live("Mail"), await kpis.live("Wiki"),
                                    await kpis.live("Chat"))
    await kpis.portfolio.create("Still a proposal")
    for service_id, value in ((healthy, "99.95"), (failing, "97")):
        kpi_id = await kpis.kpi(service_id)
        assert (await kpis.record(kpi_id, value, str(THIS_MONTH)))["errors"] == []
    viewer = kpis.org.token(Role.VIEWER)
    counts = (await kpis.api.data("{ portfolio { total byHealth { health count } } }",
                                  token=viewer))["portfolio"]
    assert counts == {"total": 4, "byHealth": [
        {"health": "HEALTHY", "count": 1}, {"health": "AT_RISK", "count": 0},
        {"health": "FAILING", "count": 1}, {"health": "UNKNOWN", "count": 1}]}
    query = """query($health: [Health!]) {
      services(filter: {health: $health}) { totalCount edges { node { id name } } } }"""
    found = (await kpis.api.data(query, {"health": ["FAILING"]}, viewer))["services"]
    assert found == {"totalCount": 1, "edges": [{"node": {"id": failing, "name": "Wiki"}}]}
    found = (await kpis.api.data(query, {"health": ["UNKNOWN", "HEALTHY"]}, viewer))["services"]
    assert [edge["node"]["name"] for edge in found["edges"]] == ["Chat", "Mail"]
    assert unmeasured in [edge["node"]["id"] for edge in found["edges"]]
    found = (await kpis.api.data(query, {"health": ["AT_RISK"]}, viewer))["services"]
    assert found == {"totalCount": 0, "edges": []}
    page = (await kpis.api.data("{ services { edges { node { name health { status } } } } }",
                                token=viewer))["services"]["edges"]
    assert {edge["node"]["name"]: (edge["node"]["health"] or {}).get("status")
            for edge in page} == {"Chat": "UNKNOWN", "Mail": "HEALTHY", "Wiki": "FAILING",
                                  "Still a proposal": None}


# --- tenancy --------------------------------------------------------------------------


async def test_another_organisation_never_sees_or_touches_kpis(
        kpis: Kpis, api: GraphQLClient, other_org: Org) -> None:
    service_id = await kpis.live()
    kpi_id = await kpis.kpi(service_id)
    assert (await kpis.record(kpi_id, "97", str(THIS_MONTH)))["errors"] == []
    stranger = other_org.token(Role.ADMIN)
    assert (await api.data("query($id: ID!) { node(id: $id) { id } }", {"id": kpi_id},
                           stranger))["node"] is None
    assert (await api.data(MEASUREMENTS, {"id": kpi_id}, stranger))["node"] is None
    assert (await api.data(SERVICE, {"id": service_id}, stranger))["service"] is None
    recorded = await kpis.record(kpi_id, "99", str(THIS_MONTH.shifted(-1)), token=stranger)
    assert codes(recorded) == [("NOT_FOUND", "kpiId")]
    defined = await kpis.define(service_id, token=stranger, name="Mine")
    assert codes(defined) == [("NOT_FOUND", "serviceId")]
    updated = await api.data(UPDATE, {"input": {"kpiId": kpi_id, "name": "Theirs"}}, stranger)
    assert codes(updated["updateKpi"]) == [("NOT_FOUND", "kpiId")]
    deleted = await api.data(DELETE, {"input": {"kpiId": kpi_id}}, stranger)
    assert codes(deleted["deleteKpi"]) == [("NOT_FOUND", "kpiId")]
    counts = (await api.data("{ portfolio { byHealth { health count } } }",
                             token=stranger))["portfolio"]["byHealth"]
    assert all(count["count"] == 0 for count in counts)
    failing = (await api.data("{ services(filter: {health: [FAILING]}) { totalCount } }",
                              token=stranger))["services"]
    assert failing == {"totalCount": 0}
    assert (await kpis.service(service_id))["kpis"][0]["name"] == "Availability"


# --- kpiBreached ----------------------------------------------------------------------

KPI_BREACHED = """
subscription { kpiBreached { kpi { name } service { name } measurement { period value } } }
"""


@pytest.fixture
async def live_api(db: AsyncEngine, settings: Settings, plugins: PluginHost
                   ) -> AsyncIterator[tuple[str, GraphQLClient]]:
    bus = EventBus(settings.event_bus_url())
    app = create_app(settings, engine=db, plugins=plugins, bus=bus)
    async with running(app) as address, httpx.AsyncClient(base_url=f"http://{address}") as http:
        yield address, GraphQLClient(http)
    await bus.disconnect()


async def test_a_value_crossing_the_breach_threshold_publishes_kpi_breached(
        live_api: tuple[str, GraphQLClient], org: Org, other_org: Org) -> None:
    address, api = live_api
    kpis = Kpis(api, org)
    service_id = await kpis.live("Payroll")
    kpi_id = await kpis.kpi(service_id)
    first, second, third, fourth = months_back(4)
    async with subscriber(address, org.token(Role.VIEWER)) as client, \
            subscriber(address, other_org.token(Role.VIEWER)) as stranger:
        await client.subscribe(KPI_BREACHED)
        await stranger.subscribe(KPI_BREACHED)
        await asyncio.sleep(0.2)
        assert (await kpis.record(kpi_id, "99.5", first))["errors"] == []
        assert (await kpis.record(kpi_id, "98.5", second))["errors"] == []
        # Already past: no second event; back within, then past again: a new one.
        assert (await kpis.record(kpi_id, "98", third))["errors"] == []
        refused = await kpis.record(kpi_id, "bad", fourth)
        assert refused["errors"]
        assert (await kpis.record(kpi_id, "99.9", fourth))["errors"] == []
        batch = await api.data(RECORD_MANY, {"input": {"measurements": [
            {"kpiId": kpi_id, "value": "90", "at": _recent_instant()}]}}, kpis.manager)
        assert batch["recordMeasurements"]["errors"] == []
        received = [(await client.next_data())["kpiBreached"] for _ in range(2)]
        assert received == [
            {"kpi": {"name": "Availability"}, "service": {"name": "Payroll"},
             "measurement": {"period": second, "value": "98.5000"}},
            {"kpi": {"name": "Availability"}, "service": {"name": "Payroll"},
             "measurement": {"period": None, "value": "90.0000"}}]
        with pytest.raises(TimeoutError):
            await client.next_data(within=0.5)
        with pytest.raises(TimeoutError):
            await stranger.next_data(within=0.2)
