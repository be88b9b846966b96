"""Reports to stakeholders through GraphQL: issuing frozen, numbered snapshots of a
service (baseline and now, deviations, KPIs, affirmations), the refusals, stakeholders
affirming or disputing the deliverable, a dispute blocking CHARTERED → LIVE until a
portfolio manager resolves it, and ``stakeholderReportIssued`` over a real WebSocket.
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry import relay

from spm_api.app import create_app
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org, Portfolio
from tests.ws import running, subscriber

REPORT_FIELDS = """
  id sequence stage issuedAt issuedBy { name } service { name } currency
  baseline { objectives summary estimatedCost { amount currency } budget { amount }
             requirements { text necessity } }
  current { objectives estimatedCost { amount } budget { amount currency }
            actualSpend { amount currency } requirements { text necessity } }
  deviations { aspect kind subject baseline current }
  kpis { name unit value measured target status explanation }
  health { status model }
  stakeholders { name role }
  affirmations { person verdict comment resolution affirmation { id } }
  content markdown
"""

ISSUE = """
mutation($input: IssueStakeholderReportInput!) {
  issueStakeholderReport(input: $input) {
    report { """ + REPORT_FIELDS + """ }
    service { stakeholderReports { sequence } }
    errors { code field message }
  }
}"""

READ_REPORT = ("query($id: ID!) { stakeholderReport(id: $id) { " + REPORT_FIELDS + " } }")

REPORTS_OF = """
query($id: ID!) { node(id: $id) { ... on Service {
  stakeholderReports { sequence current { objectives } }
} } }"""

ADD_STAKEHOLDER = """
mutation($input: AddStakeholderInput!) {
  addStakeholder(input: $input) { errors { code field message } }
}"""

VERDICT_FIELDS = """
  affirmation { id verdict comment resolution resolvedAt resolvedBy { name }
                person { name } report { sequence } }
  service { affirmations { verdict } }
  errors { code field message }
"""

AFFIRM = ("mutation($input: AffirmDeliverableInput!) { affirmDeliverable(input: $input) { "
          + VERDICT_FIELDS + " } }")
DISPUTE = ("mutation($input: DisputeDeliverableInput!) { disputeDeliverable(input: $input) { "
           + VERDICT_FIELDS + " } }")
RESOLVE = ("mutation($input: ResolveDisputeInput!) { resolveDispute(input: $input) { "
           + VERDICT_FIELDS + " } }")

UPDATE = """
mutation($input: UpdateServiceInput!) {
  updateService(input: $input) { errors { code field message } }
}"""

DEFINE_KPI = """
mutation($input: DefineKpiInput!) { defineKpi(input: $input) { kpi { id } errors { code } } }"""
RECORD = """
mutation($input: MeasurementInput!) { recordMeasurement(input: $input) { errors { code } } }"""
SET_BUDGET = """
mutation($input: SetBudgetLineInput!) { setBudgetLine(input: $input) { errors { code } } }"""
RECORD_COST = """
mutation($input: RecordCostInput!) { recordCost(input: $input) { errors { code } } }"""


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


def person_id(org: Org, role: Role) -> str:
    return str(relay.GlobalID("Person", str(org.person_ids[role])))


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


class Reports:
    """Issues reports and gives verdicts over GraphQL, as the people concerned would."""

    def __init__(self, api: GraphQLClient, org: Org) -> None:
        self.api = api
        self.org = org
        self.portfolio = Portfolio(api, org)

    async def issue(self, service_id: str, role: Role = Role.PORTFOLIO_MANAGER,
                    token: str | None = None) -> dict[str, Any]:
        data = await self.api.data(ISSUE, {"input": {"serviceId": service_id}},
                                   token or self.org.token(role))
        payload: dict[str, Any] = data["issueStakeholderReport"]
        return payload

    async def issued(self, service_id: str) -> dict[str, Any]:
        payload = await self.issue(service_id)
        assert payload["errors"] == [], payload["errors"]
        report: dict[str, Any] = payload["report"]
        return report

    async def register(self, service_id: str, role: Role, stake: str = "SPONSOR") -> None:
        data = await self.api.data(ADD_STAKEHOLDER, {"input": {
            "serviceId": service_id, "personId": person_id(self.org, role), "role": stake}},
            self.org.token(Role.PORTFOLIO_MANAGER))
        assert data["addStakeholder"]["errors"] == []

    async def verdict(self, query: str, name: str, given: dict[str, Any], token: str
                      ) -> dict[str, Any]:
        data = await self.api.data(query, {"input": given}, token)
        payload: dict[str, Any] = data[name]
        return payload

    async def affirm(self, service_id: str, role: Role, comment: str = "",
                     **extra: Any) -> dict[str, Any]:
        return await self.verdict(AFFIRM, "affirmDeliverable",
                                  {"serviceId": service_id, "comment": comment, **extra},
                                  self.org.token(role))

    async def dispute(self, service_id: str, role: Role, reason: str, **extra: Any
                      ) -> dict[str, Any]:
        return await self.verdict(DISPUTE, "disputeDeliverable",
                                  {"serviceId": service_id, "reason": reason, **extra},
                                  self.org.token(role))

    async def resolve(self, dispute_id: str, resolution: str,
                      role: Role = Role.PORTFOLIO_MANAGER, token: str | None = None
                      ) -> dict[str, Any]:
        return await self.verdict(RESOLVE, "resolveDispute",
                                  {"disputeId": dispute_id, "resolution": resolution},
                                  token or self.org.token(role))

    async def update(self, service_id: str, **fields: Any) -> None:
        data = await self.api.data(UPDATE, {"input": {"serviceId": service_id, **fields}},
                                   self.org.token(Role.CONTRIBUTOR))
        assert data["updateService"]["errors"] == []

    async def reports_of(self, service_id: str) -> list[dict[str, Any]]:
        data = await self.api.data(REPORTS_OF, {"id": service_id},
                                   self.org.token(Role.VIEWER))
        listed: list[dict[str, Any]] = data["node"]["stakeholderReports"]
        return listed


@pytest.fixture
def reports(api: GraphQLClient, org: Org) -> Reports:
    return Reports(api, org)


async def _booked(reports: Reports, service_id: str) -> None:
    """A budget of 1000.00 in two months and 350.25 spent, in the books."""
    manager = reports.org.token(Role.FINANCE)
    for period, amount in (("2026-01", "600"), ("2026-02", "400")):
        data = await reports.api.data(SET_BUDGET, {"input": {
            "serviceId": service_id, "period": period, "category": "labour",
            "amount": eur(amount)}}, manager)
        assert data["setBudgetLine"]["errors"] == []
    for day, amount in (("2026-01-15", "300.25"), ("2026-02-10", "50")):
        data = await reports.api.data(RECORD_COST, {"input": {
            "serviceId": service_id, "bookedOn": day, "category": "labour",
            "amount": eur(amount)}}, manager)
        assert data["recordCost"]["errors"] == []


async def _kpi(reports: Reports, service_id: str, value: str) -> None:
    manager = reports.org.token(Role.PORTFOLIO_MANAGER)
    data = await reports.api.data(DEFINE_KPI, {"input": {
        "serviceId": service_id, "name": "Availability", "unit": "%",
        "direction": "HIGHER_IS_BETTER", "target": "99.9", "warningThreshold": "99.5",
        "breachThreshold": "99"}}, manager)
    kpi_id = data["defineKpi"]["kpi"]["id"]
    recorded = await reports.api.data(RECORD, {"input": {
        "kpiId": kpi_id, "value": value, "period": "2026-02"}}, manager)
    assert recorded["recordMeasurement"]["errors"] == []


# --- issuing ------------------------------------------------------------------------


async def test_a_report_freezes_baseline_and_now_deviations_kpis_and_affirmations(
        reports: Reports, org: Org) -> None:
    service_id = await reports.portfolio.live("Payroll")
    await _booked(reports, service_id)
    await _kpi(reports, service_id, "99.2")
    await reports.update(service_id, objectives="Resolve incidents and requests")
    await reports.portfolio.add_requirement(service_id, "Chat channel")
    await reports.register(service_id, Role.FINANCE, "FINANCE")
    assert (await reports.affirm(service_id, Role.FINANCE, "as agreed"))["errors"] == []

    report = await reports.issued(service_id)
    assert report["sequence"] == 1
    assert report["stage"] == "LIVE"
    assert report["issuedBy"] == {"name": f"Portfolio_Manager of {org.slug}"}
    assert report["service"] == {"name": "Payroll"}
    assert report["currency"] == "EUR"
    assert report["baseline"]["objectives"] == "Resolve incidents"
    assert report["baseline"]["budget"] == {"amount": "0.00"}
    assert report["baseline"]["requirements"] == [
        {"text": "req 0", "necessity": "NECESSARY"}, {"text": "req 1", "necessity": "NECESSARY"}]
    current = report["current"]
    assert current["objectives"] == "Resolve incidents and requests"
    assert current["budget"] == eur("1000.00")
    assert current["actualSpend"] == eur("350.25")
    assert [r["text"] for r in current["requirements"]] == ["req 0", "req 1", "Chat channel"]
    assert {(d["aspect"], d["kind"]) for d in report["deviations"]} == {
        ("OBJECTIVES", "CHANGED"), ("BUDGET", "CHANGED"), ("REQUIREMENT", "ADDED")}
    [kpi] = report["kpis"]
    assert (kpi["name"], kpi["value"], kpi["measured"], kpi["status"]) == (
        "Availability", "99.2000", "2026-02", "AT_RISK")
    assert report["health"] == {"status": "AT_RISK", "model": "thresholds"}
    assert report["stakeholders"] == [{"name": f"Finance of {org.slug}", "role": "FINANCE"}]
    [affirmation] = report["affirmations"]
    assert (affirmation["verdict"], affirmation["comment"]) == ("AFFIRMED", "as agreed")
    assert report["content"]["current"]["actual_spend"] == "350.25"
    assert report["content"]["sequence"] == 1
    assert "# Stakeholder report 1: Payroll" in report["markdown"]


async def test_reports_are_numbered_newest_first_and_never_change(
        reports: Reports, org: Org, other_org: Org) -> None:
    service_id = await reports.portfolio.chartered("Payroll")
    first = await reports.issued(service_id)
    assert first["stage"] == "CHARTERED"
    assert first["health"] is None
    assert first["kpis"] == []
    await reports.update(service_id, objectives="Pay everyone, and on time")
    payload = await reports.issue(service_id, Role.ADMIN)
    assert payload["errors"] == []
    assert payload["report"]["sequence"] == 2
    assert payload["service"]["stakeholderReports"] == [{"sequence": 2}, {"sequence": 1}]
    assert [r["current"]["objectives"] for r in await reports.reports_of(service_id)] == [
        "Pay everyone, and on time", "Resolve incidents"]
    again = await reports.api.data(READ_REPORT, {"id": first["id"]}, org.token(Role.VIEWER))
    assert again["stakeholderReport"] == first
    stranger = await reports.api.data(READ_REPORT, {"id": first["id"]},
                                      other_org.token(Role.ADMIN))
    assert stranger["stakeholderReport"] is None
    node = await reports.api.data("query($id: ID!) { node(id: $id) { id } }",
                                  {"id": first["id"]}, other_org.token(Role.ADMIN))
    assert node["node"] is None


async def test_issuing_refusals_have_codes_and_write_nothing(
        reports: Reports, org: Org, other_org: Org) -> None:
    chartered = await reports.portfolio.chartered("Payroll")
    proposal = (await reports.portfolio.create("Later"))["id"]
    assert [e["code"] for e in (await reports.issue(chartered, Role.CONTRIBUTOR))["errors"]
            ] == ["FORBIDDEN"]
    assert [e["code"] for e in (await reports.issue(chartered, Role.VIEWER))["errors"]
            ] == ["FORBIDDEN"]
    stranger = await reports.issue(chartered, token=other_org.token(Role.ADMIN))
    assert codes(stranger) == [("NOT_FOUND", "serviceId")]
    assert "Payroll" not in stranger["errors"][0]["message"]
    missing = await reports.issue(str(relay.GlobalID("Service", "999999")))
    assert codes(missing) == [("NOT_FOUND", "serviceId")]
    locked = await reports.issue(proposal)
    assert codes(locked) == [("STAGE_LOCKED", "serviceId")]
    assert "DEFINITION" in locked["errors"][0]["message"]
    assert await reports.reports_of(chartered) == []
    assert await reports.reports_of(proposal) == []


# --- affirming and disputing ---------------------------------------------------------


async def test_a_dispute_blocks_live_until_the_portfolio_manager_resolves_it(
        reports: Reports, org: Org) -> None:
    service_id = await reports.portfolio.chartered("Payroll")
    await reports.register(service_id, Role.FINANCE, "FINANCE")
    await reports.register(service_id, Role.VIEWER, "USER_REPRESENTATIVE")
    report = await reports.issued(service_id)
    affirmed = await reports.affirm(service_id, Role.FINANCE, "fine by finance")
    assert affirmed["errors"] == []
    assert affirmed["affirmation"]["verdict"] == "AFFIRMED"
    assert affirmed["affirmation"]["report"] == {"sequence": report["sequence"]}
    disputed = await reports.dispute(service_id, Role.VIEWER, "  the payslips are wrong  ",
                                     reportId=report["id"])
    assert disputed["errors"] == []
    dispute = disputed["affirmation"]
    assert (dispute["verdict"], dispute["comment"], dispute["resolution"]) == (
        "DISPUTED", "the payslips are wrong", None)
    assert dispute["person"] == {"name": f"Viewer of {org.slug}"}
    assert disputed["service"]["affirmations"] == [{"verdict": "AFFIRMED"},
                                                   {"verdict": "DISPUTED"}]

    blocked = await reports.portfolio.transition(service_id, "LIVE")
    assert codes(blocked) == [("GUARD_FAILED", "disputes")]
    assert blocked["errors"][0]["message"] == (
        f"Viewer of {org.slug} disputes the deliverable (the payslips are wrong): a "
        "portfolio manager resolves the dispute first (resolveDispute)")
    assert blocked["service"] is None

    resolved = await reports.resolve(dispute["id"], "payslips corrected in release 2")
    assert resolved["errors"] == []
    assert resolved["affirmation"]["resolution"] == "payslips corrected in release 2"
    assert resolved["affirmation"]["resolvedBy"] == {"name": f"Portfolio_Manager of {org.slug}"}
    assert resolved["affirmation"]["resolvedAt"]
    later = await reports.issued(service_id)
    assert [(a["verdict"], a["resolution"]) for a in later["affirmations"]] == [
        ("AFFIRMED", None), ("DISPUTED", "payslips corrected in release 2")]
    moved = await reports.portfolio.transition(service_id, "LIVE")
    assert moved["errors"] == []
    assert moved["service"]["stage"] == "LIVE"


async def test_verdict_refusals_have_codes_and_write_nothing(
        reports: Reports, org: Org, other_org: Org) -> None:
    service_id = await reports.portfolio.chartered("Payroll")
    await reports.register(service_id, Role.VIEWER, "USER_REPRESENTATIVE")
    outsider = await reports.affirm(service_id, Role.CONTRIBUTOR)
    assert [e["code"] for e in outsider["errors"]] == ["FORBIDDEN"]
    assert "addStakeholder" in outsider["errors"][0]["message"]
    outsider = await reports.dispute(service_id, Role.ADMIN, "not asked")
    assert [e["code"] for e in outsider["errors"]] == ["FORBIDDEN"]
    for reason in ("", "   "):
        unexplained = await reports.dispute(service_id, Role.VIEWER, reason)
        assert codes(unexplained) == [("VALIDATION", "reason")]
    stranger = await reports.verdict(AFFIRM, "affirmDeliverable", {"serviceId": service_id},
                                     other_org.token(Role.ADMIN))
    assert codes(stranger) == [("NOT_FOUND", "serviceId")]
    elsewhere = await reports.portfolio.chartered("Mail")
    other_report = await reports.issued(elsewhere)
    wrong_report = await reports.affirm(service_id, Role.VIEWER, reportId=other_report["id"])
    assert codes(wrong_report) == [("NOT_FOUND", "reportId")]
    proposal = (await reports.portfolio.create("Later"))["id"]
    await reports.register(proposal, Role.VIEWER)
    locked = await reports.dispute(proposal, Role.VIEWER, "too early")
    assert codes(locked) == [("STAGE_LOCKED", "serviceId")]
    read = await reports.api.data(
        "query($id: ID!) { node(id: $id) { ... on Service { affirmations { id } } } }",
        {"id": service_id}, org.token(Role.VIEWER))
    assert read["node"]["affirmations"] == []
    assert (await reports.portfolio.transition(service_id, "LIVE"))["errors"] == []


async def test_resolution_refusals_have_codes(reports: Reports, org: Org,
                                              other_org: Org) -> None:
    service_id = await reports.portfolio.chartered("Payroll")
    await reports.register(service_id, Role.VIEWER)
    dispute = (await reports.dispute(service_id, Role.VIEWER, "late"))["affirmation"]
    affirmation = (await reports.affirm(service_id, Role.VIEWER))["affirmation"]
    for role in (Role.CONTRIBUTOR, Role.DECISION_MAKER, Role.VIEWER):
        refused = await reports.resolve(dispute["id"], "settled", role)
        assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert codes(await reports.resolve(dispute["id"], " ")) == [("VALIDATION", "resolution")]
    assert codes(await reports.resolve(affirmation["id"], "settled")) == [
        ("VALIDATION", "disputeId")]
    stranger = await reports.resolve(dispute["id"], "settled",
                                     token=other_org.token(Role.ADMIN))
    assert codes(stranger) == [("NOT_FOUND", "disputeId")]
    still = await reports.portfolio.transition(service_id, "LIVE")
    assert codes(still) == [("GUARD_FAILED", "disputes")]
    assert (await reports.resolve(dispute["id"], "settled", Role.ADMIN))["errors"] == []
    again = await reports.resolve(dispute["id"], "settled twice")
    assert codes(again) == [("CONFLICT", "disputeId")]
    assert (await reports.portfolio.transition(service_id, "LIVE"))["errors"] == []


async def test_a_cancelled_service_s_disputes_no_longer_change(reports: Reports) -> None:
    service_id = await reports.portfolio.chartered("Payroll")
    await reports.register(service_id, Role.VIEWER)
    dispute = (await reports.dispute(service_id, Role.VIEWER, "late"))["affirmation"]
    cancelled = await reports.portfolio.transition(service_id, "CANCELLED", "budget cut")
    assert cancelled["errors"] == []
    assert codes(await reports.resolve(dispute["id"], "moot")) == [
        ("STAGE_LOCKED", "disputeId")]
    assert codes(await reports.issue(service_id)) == [("STAGE_LOCKED", "serviceId")]
    assert codes(await reports.affirm(service_id, Role.VIEWER)) == [
        ("STAGE_LOCKED", "serviceId")]


# --- stakeholderReportIssued -----------------------------------------------------------

ISSUED = """
subscription($serviceId: ID) { stakeholderReportIssued(serviceId: $serviceId) {
  report { sequence current { objectives } } service { name }
} }"""


@pytest.fixture
async def live_api(db: AsyncEngine, settings: Settings, plugins: PluginHost
                   ) -> AsyncIterator[tuple[str, GraphQLClient]]:
    bus = EventBus(settings.event_bus_url())
    app = create_app(settings, engine=db, plugins=plugins, bus=bus)
    async with running(app) as address, httpx.AsyncClient(base_url=f"http://{address}") as http:
        yield address, GraphQLClient(http)
    await bus.disconnect()


async def test_each_new_report_publishes_stakeholder_report_issued(
        live_api: tuple[str, GraphQLClient], org: Org, other_org: Org) -> None:
    address, api = live_api
    reports = Reports(api, org)
    payroll = await reports.portfolio.chartered("Payroll")
    mail = await reports.portfolio.chartered("Mail")
    async with subscriber(address, org.token(Role.VIEWER)) as everything, \
            subscriber(address, org.token(Role.VIEWER)) as one, \
            subscriber(address, other_org.token(Role.VIEWER)) as stranger:
        await everything.subscribe(ISSUED)
        await one.subscribe(ISSUED, {"serviceId": mail})
        await stranger.subscribe(ISSUED)
        await asyncio.sleep(0.2)
        await reports.issued(payroll)
        refused = await reports.issue(mail, Role.CONTRIBUTOR)  # nothing written: no event
        assert refused["errors"]
        await reports.issued(mail)
        await reports.issued(payroll)
        received = [(await everything.next_data())["stakeholderReportIssued"]
                    for _ in range(3)]
        assert received == [
            {"report": {"sequence": 1, "current": {"objectives": "Resolve incidents"}},
             "service": {"name": "Payroll"}},
            {"report": {"sequence": 1, "current": {"objectives": "Resolve incidents"}},
             "service": {"name": "Mail"}},
            {"report": {"sequence": 2, "current": {"objectives": "Resolve incidents"}},
             "service": {"name": "Payroll"}}]
        assert (await one.next_data())["stakeholderReportIssued"]["service"] == {
            "name": "Mail"}
        assert await one.nothing_within(0.5)
        assert await everything.nothing_within(0.2)
        assert await stranger.nothing_within(0.2)


async def test_reports_issued_at_once_never_share_a_number(reports: Reports,
                                                           db: AsyncEngine) -> None:
    if db.url.get_backend_name() == "sqlite":
        pytest.skip("concurrent writers are exercised on PostgreSQL")
    service_id = await reports.portfolio.live("Payroll")
    results = await asyncio.gather(*(reports.issue(service_id) for _ in range(6)))
    issued = sorted(r["report"]["sequence"] for r in results if r["errors"] == [])
    assert issued == list(range(1, len(issued) + 1))
    assert all([e["code"] for e in r["errors"]] == ["CONFLICT"]
               for r in results if r["errors"])
    assert [r["sequence"] for r in await reports.reports_of(service_id)] == issued[::-1]
