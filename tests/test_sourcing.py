"""Sourcing: capabilities, contractors, quotes, and engagement requests that reach a
contractor's system after the charter commits — whether that system is up, down, slow
or talking nonsense — exactly once on the contractor's side.

The contractor's system here is an in-process stand-in registered as a contractor
integration plugin, so each failure mode can be switched on; the real HTTP integration
is tested against a real server in ``plugins/http_contractor``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.app import create_app
from spm_api.db.engine import create_session_factory
from spm_api.domain.sourcing import outbox
from spm_api.models import Engagement, EngagementAttempt
from spm_api.plugins import (
    CancellationReceipt,
    CancellationRequest,
    ContractorIntegration,
    EngagementReceipt,
    EngagementRequest,
    PluginSettingsError,
    QuoteOffer,
    QuoteRequest,
    Settings,
    hookimpl,
)
from spm_api.plugins.host import PluginHost
from spm_api.plugins.manager import build_plugin_manager
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings as AppSettings
from spm_api.vocabulary.enums import EngagementStatus, Role
from tests.support import GraphQLClient, Org, Portfolio, serve_api

TIMEOUT = 0.5
POLICY = outbox.Policy(max_attempts=3, backoff=0.01, backoff_max=0.05,
                       lease=timedelta(seconds=30))


class ContractorSystem:
    """The contractor's side. It keeps one engagement per idempotency key and counts
    every request it receives; ``mode`` switches how it answers."""

    def __init__(self) -> None:
        self.mode = "up"
        self.decision = "RECEIVED"
        self.received: Counter[str] = Counter()
        self.engagements: dict[str, EngagementReceipt] = {}
        self.quote_amount = Decimal("41999.995")
        #: Cancellations received per idempotency key, and the keys cancelled.
        self.cancellations: Counter[str] = Counter()
        self.cancelled: dict[str, str] = {}

    async def send(self, request: EngagementRequest) -> Any:
        if self.mode == "down":
            raise ConnectionRefusedError("connection refused")
        if self.mode == "slow":
            await asyncio.sleep(TIMEOUT * 4)
        if self.mode == "error":
            raise RuntimeError("HTTP 500 Internal Server Error")
        if self.mode == "garbage":
            return {"status": "whatever"}
        self.received[request.idempotency_key] += 1
        if request.idempotency_key not in self.engagements:
            self.engagements[request.idempotency_key] = EngagementReceipt(
                f"C-{len(self.engagements) + 1}", self.decision)
        return self.engagements[request.idempotency_key]

    async def cancel(self, request: CancellationRequest) -> CancellationReceipt:
        if self.mode == "down":
            raise ConnectionRefusedError("connection refused")
        self.cancellations[request.idempotency_key] += 1
        self.cancelled.setdefault(request.idempotency_key, request.reason)
        return CancellationReceipt(f"X-{request.contractor_reference}")

    async def quote(self, request: QuoteRequest) -> QuoteOffer:
        assert request.currency == "EUR"
        return QuoteOffer(self.quote_amount, "Q-17", date(2026, 12, 31))


def require_endpoint(settings: Settings) -> None:
    if set(settings) != {"endpoint"}:
        raise PluginSettingsError("settings need exactly an endpoint")


class FakeIntegration:
    def __init__(self, system: ContractorSystem) -> None:
        self.system = system

    @hookimpl
    def spm_contractor_integrations(self) -> list[ContractorIntegration]:
        return [ContractorIntegration(
            name="fake", title="Stand-in contractor", description="for tests",
            send_engagement=self.system.send, request_quote=self.system.quote,
            validate_settings=require_endpoint, cancel_engagement=self.system.cancel),
            ContractorIntegration(
            name="fake_no_cancel", title="Stand-in contractor that cannot cancel",
            description="for tests", send_engagement=self.system.send,
            validate_settings=require_endpoint)]


@dataclass
class World:
    api: GraphQLClient
    org: Org
    portfolio: Portfolio
    plugins: PluginHost
    system: ContractorSystem
    db: AsyncEngine

    async def deliver(self, policy: outbox.Policy = POLICY) -> int:
        return await outbox.run_once(create_session_factory(self.db), self.plugins, policy)

    async def engagements(self) -> list[Engagement]:
        async with create_session_factory(self.db)() as session:
            return list(await session.scalars(select(Engagement).order_by(Engagement.id)))

    async def due_now(self) -> None:
        """Skip the backoff wait."""
        async with create_session_factory(self.db)() as session, session.begin():
            await session.execute(update(Engagement).values(
                next_attempt_at=Engagement.created_at))


@pytest.fixture
async def world(db: AsyncEngine, settings: AppSettings, org: Org) -> AsyncIterator[World]:
    system = ContractorSystem()
    manager = build_plugin_manager(frozenset())
    manager.register(FakeIntegration(system), name="fake_contractor")
    host = PluginHost(manager, timeout=TIMEOUT)
    bus = EventBus("memory://")
    async with serve_api(create_app(settings, engine=db, plugins=host, bus=bus)) as client:
        yield World(client, org, Portfolio(client, org), host, system, db)
    await bus.disconnect()
    host.close()


REGISTER = """
mutation($input: RegisterContractorInput!) {
  registerContractor(input: $input) {
    contractor { id name integration } errors { code field message }
  }
}"""
ADD_CAPABILITY = """
mutation($input: AddCapabilityInput!) {
  addCapability(input: $input) {
    capability { id name sourcing estimatedCost { amount } contractor { name } owner { name } }
    errors { code field message }
  }
}"""
REQUEST_QUOTE = """
mutation($id: ID!) {
  requestQuote(input: {capabilityId: $id}) {
    quote { amount { amount currency } reference validUntil }
    capability { estimatedCost { amount } }
    errors { code field message }
  }
}"""
SERVICE = """
query($id: ID!) {
  service(id: $id) {
    stage estimatedCost { amount }
    capabilities { name sourcing quotes { reference } }
    engagements { id status attempts lastError contractorReference idempotencyKey
                  cancellationReason
                  capability { name } contractor { name }
                  attemptHistory { number outcome detail } }
  }
}"""
RETRY = """
mutation($id: ID!) { retryEngagement(input: {engagementId: $id}) {
  engagement { status attempts } errors { code message } } }"""
DECIDE = """
mutation($id: ID!, $accepted: Boolean!) {
  recordEngagementDecision(input: {engagementId: $id, accepted: $accepted}) {
    engagement { status } errors { code message } } }"""


async def _call(world: World, query: str, variables: dict[str, Any], field: str,
                role: Role = Role.PORTFOLIO_MANAGER) -> dict[str, Any]:
    payload: dict[str, Any] = (await world.api.data(query, variables,
                                                    world.org.token(role)))[field]
    return payload


async def _contractor(world: World, name: str = "Acme Hosting", integration: str = "fake"
                      ) -> str:
    payload = await _call(world, REGISTER, {"input": {
        "name": name, "integration": integration, "contact": "ops@acme.example",
        "settings": {"endpoint": "https://acme.example"}}}, "registerContractor")
    assert payload["errors"] == [], payload["errors"]
    contractor_id: str = payload["contractor"]["id"]
    return contractor_id


async def _read(world: World, service_id: str) -> dict[str, Any]:
    data = await world.api.data(SERVICE, {"id": service_id}, world.org.token(Role.VIEWER))
    service: dict[str, Any] = data["service"]
    return service


async def _chartered(world: World, name: str = "Hosting", quote: bool = False,
                     integration: str = "fake") -> str:
    """A chartered service with one contractor-sourced and one internal capability."""
    contractor = await _contractor(world, f"{name} contractor", integration)
    service_id, requirements = await world.portfolio.in_analysis(name)
    sourced = await _call(world, ADD_CAPABILITY, {"input": {
        "serviceId": service_id, "name": "Hosting team", "sourcing": "CONTRACTOR",
        "contractorId": contractor, "estimatedCost": {"amount": "30000", "currency": "EUR"}}},
        "addCapability", Role.CONTRIBUTOR)
    assert sourced["errors"] == [], sourced["errors"]
    internal = await _call(world, ADD_CAPABILITY, {"input": {
        "serviceId": service_id, "name": "Service desk", "sourcing": "INTERNAL",
        "ownerId": await _person_id(world, Role.PORTFOLIO_MANAGER),
        "estimatedCost": {"amount": "12000", "currency": "EUR"}}},
        "addCapability", Role.CONTRIBUTOR)
    assert internal["errors"] == [], internal["errors"]
    if quote:
        quoted = await _call(world, REQUEST_QUOTE, {"id": sourced["capability"]["id"]},
                             "requestQuote", Role.CONTRIBUTOR)
        assert quoted["errors"] == [], quoted["errors"]
    for requirement in requirements:
        await world.portfolio.assess(requirement)
    await world.portfolio.add_input(service_id)
    assert (await world.portfolio.transition(service_id, "APPROVAL"))["errors"] == []
    await world.portfolio.vote(service_id, "APPROVE", world.org.token(Role.DECISION_MAKER))
    chartered = await world.portfolio.transition(service_id, "CHARTERED", "go")
    assert chartered["errors"] == [], chartered["errors"]
    return service_id


async def _person_id(world: World, role: Role) -> str:
    data = await world.api.data("{ viewer { id } }", token=world.org.token(role))
    person_id: str = data["viewer"]["id"]
    return person_id


async def test_a_quote_becomes_the_estimated_cost(world: World) -> None:
    service_id = await _chartered(world, quote=True)
    service = await _read(world, service_id)
    # The quote (41999.995, rounded half-up to cents) plus the internal 12000.00.
    assert service["estimatedCost"] == {"amount": "54000.00"}
    [sourced] = [c for c in service["capabilities"] if c["sourcing"] == "CONTRACTOR"]
    assert sourced["quotes"] == [{"reference": "Q-17"}]


async def test_charter_writes_one_pending_engagement_per_contractor_capability(
        world: World) -> None:
    world.system.mode = "down"
    service_id = await _chartered(world)
    [engagement] = (await _read(world, service_id))["engagements"]
    assert engagement["status"] == "PENDING"
    assert engagement["capability"] == {"name": "Hosting team"}
    assert engagement["attempts"] == 0
    assert world.system.received == Counter()


async def test_a_contractor_down_at_charter_gets_the_request_once_it_is_back(
        world: World) -> None:
    world.system.mode = "down"
    service_id = await _chartered(world)
    patient = outbox.Policy(3, backoff=0.5, backoff_max=1, lease=timedelta(seconds=30))
    assert await world.deliver(patient) == 1
    [engagement] = (await _read(world, service_id))["engagements"]
    assert (engagement["status"], engagement["attempts"]) == ("PENDING", 1)
    assert "ConnectionRefusedError" in engagement["lastError"]
    assert await world.deliver(patient) == 0  # not due before the backoff

    world.system.mode = "up"
    await asyncio.sleep(0.6)
    assert await world.deliver(patient) == 1
    [engagement] = (await _read(world, service_id))["engagements"]
    assert (engagement["status"], engagement["contractorReference"]) == ("SENT", "C-1")
    assert [(a["number"], a["outcome"]) for a in engagement["attemptHistory"]] == [
        (1, "ERROR"), (2, "RECEIVED")]
    await asyncio.sleep(0.05)
    assert await world.deliver() == 0  # delivered: never again
    assert world.system.received == Counter({engagement["idempotencyKey"]: 1})


@pytest.mark.parametrize(("mode", "error"), [
    ("slow", "did not answer within"),
    ("error", "raised RuntimeError"),
    ("garbage", "instead of an EngagementReceipt"),
])
async def test_slow_failing_or_nonsense_answers_are_retried_then_failed(
        world: World, mode: str, error: str) -> None:
    world.system.mode = mode
    service_id = await _chartered(world)
    for attempt in range(1, POLICY.max_attempts + 1):
        await world.due_now()
        assert await world.deliver() == 1
        [engagement] = (await _read(world, service_id))["engagements"]
        assert error in engagement["lastError"]
        expected = "FAILED" if attempt == POLICY.max_attempts else "PENDING"
        assert (engagement["status"], engagement["attempts"]) == (expected, attempt)
    await world.due_now()
    assert await world.deliver() == 0  # FAILED is final until someone retries

    refused = await world.portfolio.transition(service_id, "LIVE")
    assert [e["code"] for e in refused["errors"]] == ["GUARD_FAILED"]
    assert "FAILED" in refused["errors"][0]["message"]

    viewer = await _call(world, RETRY, {"id": engagement["id"]}, "retryEngagement",
                         Role.VIEWER)
    assert [e["code"] for e in viewer["errors"]] == ["FORBIDDEN"]
    retried = await _call(world, RETRY, {"id": engagement["id"]}, "retryEngagement")
    assert retried == {"engagement": {"status": "PENDING", "attempts": 0}, "errors": []}
    world.system.mode = "up"
    assert await world.deliver() == 1
    [engagement] = (await _read(world, service_id))["engagements"]
    assert engagement["status"] == "SENT"
    assert [a["number"] for a in engagement["attemptHistory"]] == [1, 2, 3, 1]


async def test_only_a_failed_engagement_is_retried(world: World) -> None:
    service_id = await _chartered(world)
    [engagement] = (await _read(world, service_id))["engagements"]
    refused = await _call(world, RETRY, {"id": engagement["id"]}, "retryEngagement")
    assert [e["code"] for e in refused["errors"]] == ["CONFLICT"]


async def test_live_only_once_every_engagement_is_accepted(world: World) -> None:
    service_id = await _chartered(world)
    refused = await world.portfolio.transition(service_id, "LIVE")
    assert [e["code"] for e in refused["errors"]] == ["GUARD_FAILED"]
    assert "'Hosting team'" in refused["errors"][0]["message"]
    await world.deliver()
    [engagement] = (await _read(world, service_id))["engagements"]
    still = await world.portfolio.transition(service_id, "LIVE")
    assert "SENT" in still["errors"][0]["message"]
    accepted = await _call(world, DECIDE, {"id": engagement["id"], "accepted": True},
                           "recordEngagementDecision")
    assert accepted == {"engagement": {"status": "ACCEPTED"}, "errors": []}
    assert (await world.portfolio.transition(service_id, "LIVE"))["errors"] == []


async def test_a_contractor_that_accepts_on_receipt_lets_the_service_go_live(
        world: World) -> None:
    world.system.decision = "ACCEPTED"
    service_id = await _chartered(world)
    await world.deliver()
    assert [e["status"] for e in (await _read(world, service_id))["engagements"]] == [
        "ACCEPTED"]
    assert (await world.portfolio.transition(service_id, "LIVE"))["errors"] == []


async def test_a_repeated_delivery_is_harmless_on_the_contractor_side(world: World) -> None:
    """A worker that delivered and died before recording it: the claim lapses, the next
    worker delivers again with the same key, and the contractor keeps one engagement."""
    await _chartered(world)
    sessions = create_session_factory(world.db)
    short_lease = outbox.Policy(3, 0.01, 0.05, timedelta(milliseconds=50))
    [first] = await outbox.claim_due(sessions, short_lease)
    receipt = await outbox.deliver(world.plugins, first)
    assert isinstance(receipt, EngagementReceipt)
    # ... the worker dies here, before recording the outcome.
    await asyncio.sleep(0.1)
    [second] = await outbox.claim_due(sessions, short_lease)
    assert second.request.idempotency_key == first.request.idempotency_key
    assert second.attempt == 2
    again = await outbox.deliver(world.plugins, second)
    await outbox.record(sessions, short_lease, second, again)
    assert again == receipt
    assert world.system.received[first.request.idempotency_key] == 2
    assert len(world.system.engagements) == 1
    [engagement] = await world.engagements()
    assert engagement.status is EngagementStatus.SENT


async def test_two_workers_racing_deliver_each_request_once(world: World) -> None:
    services = [await _chartered(world, f"Service {n}") for n in range(6)]
    sessions = create_session_factory(world.db)

    async def worker() -> int:
        done = 0
        for _ in range(3):
            done += await outbox.run_once(sessions, world.plugins, POLICY)
        return done

    delivered = await asyncio.gather(worker(), worker())
    assert sum(delivered) == len(services)
    assert set(world.system.received.values()) == {1}
    assert len(world.system.received) == len(services)
    engagements = await world.engagements()
    assert {e.status for e in engagements} == {EngagementStatus.SENT}
    async with sessions() as session:
        attempts = list(await session.scalars(select(EngagementAttempt)))
    assert len(attempts) == len(services)


async def test_capabilities_are_checked(world: World) -> None:
    contractor = await _contractor(world)
    service_id, _ = await world.portfolio.in_analysis("Payroll")
    base = {"serviceId": service_id, "name": "Desk"}
    for extra, field in (({"sourcing": "INTERNAL"}, "ownerId"),
                         ({"sourcing": "CONTRACTOR"}, "contractorId"),
                         ({"sourcing": "INTERNAL", "contractorId": contractor}, "ownerId")):
        refused = await _call(world, ADD_CAPABILITY, {"input": {**base, **extra}},
                              "addCapability", Role.CONTRIBUTOR)
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [("VALIDATION", field)]
    viewer = await _call(world, ADD_CAPABILITY, {"input": {
        **base, "sourcing": "CONTRACTOR", "contractorId": contractor}}, "addCapability",
        Role.VIEWER)
    assert [e["code"] for e in viewer["errors"]] == ["FORBIDDEN"]
    bad_settings = await _call(world, REGISTER, {"input": {
        "name": "Other", "integration": "fake", "settings": {"nope": 1}}},
        "registerContractor")
    assert [(e["code"], e["field"]) for e in bad_settings["errors"]] == [
        ("VALIDATION", "settings")]
    unknown = await _call(world, REGISTER, {"input": {
        "name": "Other", "integration": "carrier-pigeon", "settings": {}}},
        "registerContractor")
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [
        ("VALIDATION", "integration")]
    not_pm = await _call(world, REGISTER, {"input": {
        "name": "Other", "integration": "fake", "settings": {"endpoint": "x"}}},
        "registerContractor", Role.CONTRIBUTOR)
    assert [e["code"] for e in not_pm["errors"]] == ["FORBIDDEN"]


async def test_quotes_only_in_analysis_for_contractor_capabilities(world: World) -> None:
    service_id = await _chartered(world)
    data = await world.api.data("query($id: ID!) { service(id: $id) { capabilities { id "
                                "sourcing } } }", {"id": service_id},
                                world.org.token(Role.VIEWER))
    for capability in data["service"]["capabilities"]:
        refused = await _call(world, REQUEST_QUOTE, {"id": capability["id"]}, "requestQuote",
                              Role.CONTRIBUTOR)
        assert [e["code"] for e in refused["errors"]] == ["STAGE_LOCKED"]


async def test_contractor_invoices_are_booked_once_as_contractor_cost(world: World) -> None:
    service_id = await _chartered(world)
    [engagement] = (await _read(world, service_id))["engagements"]
    book = """mutation($id: ID!) { bookContractorInvoice(input: {engagementId: $id,
        invoiceReference: "INV-9", bookedOn: "2026-04-30",
        amount: {amount: "2500.00", currency: "EUR"}}) {
        costEntry { category amount { amount } source service { id } }
        errors { code field } } }"""
    booked = await _call(world, book, {"id": engagement["id"]}, "bookContractorInvoice",
                         Role.FINANCE)
    assert booked["errors"] == []
    assert booked["costEntry"]["category"] == "contractor"
    assert booked["costEntry"]["amount"] == {"amount": "2500.00"}
    assert booked["costEntry"]["service"] == {"id": service_id}
    again = await _call(world, book, {"id": engagement["id"]}, "bookContractorInvoice",
                        Role.FINANCE)
    assert [(e["code"], e["field"]) for e in again["errors"]] == [
        ("CONFLICT", "invoiceReference")]
    pm = await _call(world, book, {"id": engagement["id"]}, "bookContractorInvoice")
    assert [e["code"] for e in pm["errors"]] == ["FORBIDDEN"]



async def test_contractor_settings_must_be_an_object(world: World) -> None:
    for settings in (["endpoint"], "endpoint", 7):
        refused = await _call(world, REGISTER, {"input": {
            "name": "Odd", "integration": "fake", "settings": settings}}, "registerContractor")
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [
            ("VALIDATION", "settings")]


async def test_an_absurd_quote_is_a_plugin_error_and_changes_nothing(world: World) -> None:
    contractor = await _contractor(world)
    service_id, _ = await world.portfolio.in_analysis("Payroll")
    added = await _call(world, ADD_CAPABILITY, {"input": {
        "serviceId": service_id, "name": "Payroll bureau", "sourcing": "CONTRACTOR",
        "contractorId": contractor}}, "addCapability", Role.CONTRIBUTOR)
    world.system.quote_amount = Decimal("1e30")
    refused = await _call(world, REQUEST_QUOTE, {"id": added["capability"]["id"]},
                          "requestQuote", Role.CONTRIBUTOR)
    [error] = refused["errors"]
    assert error["code"] == "PLUGIN_ERROR" and "fake_contractor" in error["message"]
    service = await _read(world, service_id)
    assert service["estimatedCost"] is None
    assert service["capabilities"][0]["quotes"] == []


async def test_the_worker_inside_the_server_delivers_without_being_asked(
        db: AsyncEngine, settings: AppSettings, org: Org) -> None:
    import httpx

    from tests.ws import running

    system = ContractorSystem()
    manager = build_plugin_manager(frozenset())
    manager.register(FakeIntegration(system), name="fake_contractor")
    host = PluginHost(manager, timeout=TIMEOUT)
    quick = settings.model_copy(update={"outbox_in_server": True,
                                        "outbox_poll_seconds": 0.05})
    bus = EventBus("memory://")
    try:
        async with running(create_app(quick, engine=db, plugins=host, bus=bus)) as address, \
                httpx.AsyncClient(base_url=f"http://{address}") as http:
            client = GraphQLClient(http)
            world = World(client, org, Portfolio(client, org), host, system, db)
            service_id = await _chartered(world)
            for _ in range(100):
                statuses = [e["status"] for e in (await _read(world, service_id))["engagements"]]
                if statuses == ["SENT"]:
                    break
                await asyncio.sleep(0.05)
            assert statuses == ["SENT"]
            assert list(system.received.values()) == [1]
    finally:
        await bus.disconnect()
        host.close()


async def test_a_contractors_settings_can_be_rotated_and_are_checked(world: World) -> None:
    contractor = await _contractor(world)
    update = """mutation($input: UpdateContractorInput!) { updateContractor(input: $input) {
        contractor { contact settingsJson } errors { code field } } }"""
    changed = await _call(world, update, {"input": {
        "contractorId": contractor, "contact": "desk@acme.example",
        "settings": {"endpoint": "https://new.acme.example"}}}, "updateContractor")
    assert changed == {"contractor": {"contact": "desk@acme.example",
                                      "settingsJson": {"endpoint": "https://new.acme.example"}},
                       "errors": []}
    refused = await _call(world, update, {"input": {
        "contractorId": contractor, "settings": {"endpoint": "x", "extra": 1}}},
        "updateContractor")
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("VALIDATION", "settings")]
    viewer = await _call(world, update, {"input": {"contractorId": contractor,
                                                   "contact": "x"}},
                         "updateContractor", Role.VIEWER)
    assert [e["code"] for e in viewer["errors"]] == ["FORBIDDEN"]
    hidden = await world.api.data("{ contractors { name settingsJson } }",
                                  token=world.org.token(Role.VIEWER))
    assert hidden["contractors"] == [{"name": "Acme Hosting", "settingsJson": None}]


async def test_an_invoice_booked_twice_at_once_is_booked_once(world: World) -> None:
    service_id = await _chartered(world)
    [engagement] = (await _read(world, service_id))["engagements"]
    book = """mutation($id: ID!) { bookContractorInvoice(input: {engagementId: $id,
        invoiceReference: "INV-RACE", bookedOn: "2026-04-30",
        amount: {amount: "100.00", currency: "EUR"}}) { errors { code } } }"""
    results = await asyncio.gather(*(
        _call(world, book, {"id": engagement["id"]}, "bookContractorInvoice", Role.FINANCE)
        for _ in range(5)))
    codes = sorted(tuple(e["code"] for e in r["errors"]) for r in results)
    assert codes == [(), ("CONFLICT",), ("CONFLICT",), ("CONFLICT",), ("CONFLICT",)]


async def test_an_attempt_that_outlived_its_lease_is_not_recorded(world: World) -> None:
    await _chartered(world)
    sessions = create_session_factory(world.db)
    short_lease = outbox.Policy(3, 0.01, 0.05, timedelta(milliseconds=50))
    [stale] = await outbox.claim_due(sessions, short_lease)
    late_receipt = await outbox.deliver(world.plugins, stale)
    await asyncio.sleep(0.1)
    [current] = await outbox.claim_due(sessions, POLICY)
    # The first worker finally records: the request belongs to the second one now.
    await outbox.record(sessions, short_lease, stale, late_receipt)
    [engagement] = await world.engagements()
    assert engagement.status is EngagementStatus.PENDING
    assert engagement.claimed_until is not None
    await outbox.record(sessions, POLICY, current, await outbox.deliver(world.plugins,
                                                                         current))
    [engagement] = await world.engagements()
    assert engagement.status is EngagementStatus.SENT
    async with sessions() as session:
        attempts = list(await session.scalars(select(EngagementAttempt)))
    assert [a.number for a in attempts] == [2]


# --- cancellations ----------------------------------------------------------------------

CANCEL_ENGAGEMENT = """
mutation($id: ID!, $reason: String!) {
  cancelEngagement(input: {engagementId: $id, reason: $reason}) {
    engagement { status } errors { code field message } } }"""


def _errors(payload: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(e["code"], e["field"], e["message"]) for e in payload["errors"]]


async def test_cancelling_while_the_contractor_is_down_loses_nothing(world: World) -> None:
    """The cancellation is written with the stage change and delivered once the
    contractor is back: exactly once on its side, under the engagement's key."""
    service_id = await _chartered(world)
    assert await world.deliver() == 1
    [engagement] = (await _read(world, service_id))["engagements"]
    assert engagement["status"] == "SENT"

    world.system.mode = "down"
    cancelled = await world.portfolio.transition(service_id, "CANCELLED", "budget cut")
    assert cancelled["errors"] == []
    [engagement] = (await _read(world, service_id))["engagements"]
    assert (engagement["status"], engagement["attempts"]) == ("CANCELLING", 0)
    assert engagement["cancellationReason"] == "budget cut"

    assert await world.deliver() == 1
    [engagement] = (await _read(world, service_id))["engagements"]
    assert (engagement["status"], engagement["attempts"]) == ("CANCELLING", 1)
    assert "ConnectionRefusedError" in engagement["lastError"]
    assert world.system.cancellations == Counter()

    world.system.mode = "up"
    await world.due_now()
    assert await world.deliver() == 1
    [engagement] = (await _read(world, service_id))["engagements"]
    assert (engagement["status"], engagement["lastError"]) == ("CANCELLED", None)
    await world.due_now()
    assert await world.deliver() == 0  # delivered: never again
    key = engagement["idempotencyKey"]
    assert world.system.cancellations == Counter({key: 1})
    assert world.system.cancelled == {key: "budget cut"}
    assert world.system.received == Counter({key: 1})  # the request was not sent again
    data = await world.api.data("""query($id: ID!) { service(id: $id) { engagements {
        attemptHistory { kind number outcome detail } } } }""", {"id": service_id},
        world.org.token(Role.VIEWER))
    history = data["service"]["engagements"][0]["attemptHistory"]
    assert [(a["kind"], a["number"], a["outcome"]) for a in history] == [
        ("REQUEST", 1, "RECEIVED"), ("CANCELLATION", 1, "ERROR"),
        ("CANCELLATION", 2, "CANCELLED")]
    assert history[-1]["detail"] == "X-C-1"


async def test_a_request_that_never_left_is_cancelled_without_a_call(world: World) -> None:
    world.system.mode = "down"
    service_id = await _chartered(world)
    cancelled = await world.portfolio.transition(service_id, "CANCELLED", "stopped early")
    assert cancelled["errors"] == []
    [engagement] = (await _read(world, service_id))["engagements"]
    assert (engagement["status"], engagement["attemptHistory"]) == ("CANCELLED", [])
    world.system.mode = "up"
    await world.due_now()
    assert await world.deliver() == 0
    assert world.system.received == Counter() and world.system.cancellations == Counter()


async def test_a_cancellation_that_keeps_failing_is_retried_by_hand(world: World) -> None:
    service_id = await _chartered(world)
    await world.deliver()
    world.system.mode = "down"
    await world.portfolio.transition(service_id, "CANCELLED", "stopped")
    for _ in range(POLICY.max_attempts):
        await world.due_now()
        assert await world.deliver() == 1
    [engagement] = (await _read(world, service_id))["engagements"]
    assert (engagement["status"], engagement["attempts"]) == ("CANCEL_FAILED", 3)
    await world.due_now()
    assert await world.deliver() == 0  # CANCEL_FAILED is final until someone retries

    retried = await _call(world, RETRY, {"id": engagement["id"]}, "retryEngagement")
    assert retried == {"engagement": {"status": "CANCELLING", "attempts": 0}, "errors": []}
    world.system.mode = "up"
    assert await world.deliver() == 1
    [engagement] = (await _read(world, service_id))["engagements"]
    assert engagement["status"] == "CANCELLED"
    assert world.system.cancellations == Counter({engagement["idempotencyKey"]: 1})


async def test_an_integration_that_cannot_cancel_is_not_called(world: World) -> None:
    service_id = await _chartered(world, integration="fake_no_cancel")
    await world.deliver()
    await world.portfolio.transition(service_id, "CANCELLED", "stopped")
    assert await world.deliver() == 1
    [engagement] = (await _read(world, service_id))["engagements"]
    assert engagement["status"] == "CANCELLED"
    assert [(a["outcome"], a["detail"]) for a in engagement["attemptHistory"]][-1] == (
        "NOT_SUPPORTED", "the integration 'fake_no_cancel' cannot send cancellations: tell "
        "the contractor yourself (their reference C-1)")
    assert world.system.cancellations == Counter()


async def test_a_request_on_its_way_when_cancelled_is_cancelled_after_it(
        world: World) -> None:
    """The contractor never hears of the cancellation before the request it cancels."""
    service_id = await _chartered(world)
    sessions = create_session_factory(world.db)
    [request] = await outbox.claim_due(sessions, POLICY)
    receipt = await outbox.deliver(world.plugins, request)  # on its way...
    await world.portfolio.transition(service_id, "CANCELLED", "stopped")
    assert await outbox.claim_due(sessions, POLICY) == []  # waits for the request's claim
    await outbox.record(sessions, POLICY, request, receipt)
    [engagement] = (await _read(world, service_id))["engagements"]
    assert (engagement["status"], engagement["contractorReference"]) == ("CANCELLING", "C-1")
    assert await world.deliver() == 1
    [engagement] = (await _read(world, service_id))["engagements"]
    assert engagement["status"] == "CANCELLED"
    key = engagement["idempotencyKey"]
    assert (world.system.received[key], world.system.cancellations[key]) == (1, 1)


async def _live_with_an_accepted_engagement(world: World) -> tuple[str, str]:
    world.system.decision = "ACCEPTED"
    service_id = await _chartered(world)
    await world.deliver()
    assert (await world.portfolio.transition(service_id, "LIVE"))["errors"] == []
    [engagement] = (await _read(world, service_id))["engagements"]
    return service_id, engagement["id"]


async def test_retired_only_once_no_engagement_is_open(world: World) -> None:
    service_id, engagement_id = await _live_with_an_accepted_engagement(world)
    end = datetime.now(UTC).date()
    refused = await _call(world, CANCEL_ENGAGEMENT, {"id": engagement_id, "reason": "end"},
                          "cancelEngagement")
    assert _errors(refused) == [(
        "STAGE_LOCKED", "engagementId",
        "engagements are cancelled one by one while their service is RETIRING; 'Hosting' "
        "is LIVE")]
    retiring = await world.portfolio.transition(service_id, "RETIRING", "moving to SaaS",
                                                planned_end_date=end.isoformat())
    assert retiring["errors"] == []
    closed = await world.api.data("""mutation($p: String!) { closePeriod(input: {period: $p})
        { errors { code } } }""", {"p": f"{end:%Y-%m}"}, world.org.token(Role.FINANCE))
    assert closed["closePeriod"]["errors"] == []

    refused = await world.portfolio.transition(service_id, "RETIRED")
    assert _errors(refused) == [(
        "GUARD_FAILED", "engagements",
        "the engagement for 'Hosting team' is still ACCEPTED: cancel it first "
        "(cancelEngagement)")]
    no_reason = await _call(world, CANCEL_ENGAGEMENT, {"id": engagement_id, "reason": " "},
                            "cancelEngagement")
    assert _errors(no_reason) == [("REASON_REQUIRED", "reason", "say why the engagement ends")]
    viewer = await _call(world, CANCEL_ENGAGEMENT, {"id": engagement_id, "reason": "end"},
                         "cancelEngagement", Role.VIEWER)
    assert [e["code"] for e in viewer["errors"]] == ["FORBIDDEN"]

    world.system.mode = "down"
    cancelling = await _call(world, CANCEL_ENGAGEMENT, {"id": engagement_id,
                                                        "reason": "service retired"},
                             "cancelEngagement")
    assert cancelling == {"engagement": {"status": "CANCELLING"}, "errors": []}
    again = await _call(world, CANCEL_ENGAGEMENT, {"id": engagement_id, "reason": "again"},
                        "cancelEngagement")
    assert _errors(again) == [("CONFLICT", "engagementId",
                               "the engagement is CANCELLING already")]
    await world.deliver()
    refused = await world.portfolio.transition(service_id, "RETIRED")
    assert _errors(refused) == [(
        "GUARD_FAILED", "engagements",
        "the cancellation of the engagement for 'Hosting team' has not reached the "
        "contractor yet (CANCELLING)")]

    world.system.mode = "up"
    await world.due_now()
    assert await world.deliver() == 1
    retired = await world.portfolio.transition(service_id, "RETIRED")
    assert retired["errors"] == []
    assert retired["service"]["section"] == "RETIRED"


async def test_a_failed_cancellation_blocks_retirement_with_its_remedy(world: World) -> None:
    service_id, engagement_id = await _live_with_an_accepted_engagement(world)
    end = datetime.now(UTC).date()
    await world.portfolio.transition(service_id, "RETIRING", "moving to SaaS",
                                     planned_end_date=end.isoformat())
    world.system.mode = "down"
    await _call(world, CANCEL_ENGAGEMENT, {"id": engagement_id, "reason": "end"},
                "cancelEngagement")
    for _ in range(POLICY.max_attempts):
        await world.due_now()
        await world.deliver()
    refused = await world.portfolio.transition(service_id, "RETIRED")
    assert _errors(refused) == [
        ("GUARD_FAILED", "plannedEndDate",
         f"{end:%Y-%m}, the month of the planned end date {end}, is still open: close it "
         f"first (closePeriod)"),
        ("GUARD_FAILED", "engagements",
         "the cancellation of the engagement for 'Hosting team' failed after its last "
         "attempt (CANCEL_FAILED): retry it (retryEngagement)")]


async def test_a_worker_stopped_mid_delivery_releases_its_claim(world: World) -> None:
    """A shutdown that cannot wait for a delivery cancels the worker's round: the claim
    is given back at once (not left to lapse after the lease) and the attempt is not
    counted; the next worker delivers it. The backlog shows it meanwhile."""
    service_id = await _chartered(world)
    sessions = create_session_factory(world.db)
    assert (await outbox.backlog(sessions))[0] == 1
    world.system.mode = "slow"
    delivering = asyncio.create_task(world.deliver())
    for _ in range(100):
        [engagement] = await world.engagements()
        if engagement.claimed_until is not None:
            break
        await asyncio.sleep(0.01)
    assert engagement.claimed_until is not None and engagement.attempts == 1
    await asyncio.sleep(0.05)  # the contractor is being called
    delivering.cancel()
    with pytest.raises(asyncio.CancelledError):
        await delivering
    [released] = await world.engagements()
    assert released.status is EngagementStatus.PENDING
    assert released.claimed_until is None and released.attempts == 0
    count, waited = await outbox.backlog(sessions)
    assert count == 1 and waited >= 0
    world.system.mode = "up"
    assert await world.deliver() == 1
    statuses = [e["status"] for e in (await _read(world, service_id))["engagements"]]
    assert statuses == ["SENT"]
    assert [e.attempts for e in await world.engagements()] == [1]
    assert (await outbox.backlog(sessions)) == (0, 0.0)
