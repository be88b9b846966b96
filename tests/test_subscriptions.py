"""Subscriptions over a real WebSocket against uvicorn on a loopback port: refused
without a valid token, events in order, only the subscriber's organisation, nothing
for rolled-back work, and resuming after a disconnect without loss or repeat."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from spm_api.app import create_app
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org, Portfolio
from tests.ws import PROTOCOL, running, subscriber

#: Run a third time through PgBouncer in transaction mode (tests/conftest.py).
pytestmark = pytest.mark.pgbouncer

STAGE_CHANGED = """
subscription($filter: StageChangeFilter, $after: String) {
  stageChanged(filter: $filter, after: $after) {
    cursor
    stageChange { fromStage toStage reason actor { name } }
    service { id name stage section }
  }
}"""

VOTE_CAST = """
subscription($serviceId: ID) {
  voteCast(serviceId: $serviceId) {
    vote { decision comment voter { name } }
    service { id approval { status } }
  }
}"""

STATEMENT_ISSUED = """
subscription { statementIssued { period statements { customer { name } total { amount } } } }
"""


class Live:
    """A running server: GraphQL over HTTP for changes, its address for WebSockets."""

    def __init__(self, address: str, api: GraphQLClient, org: Org, bus: EventBus,
                 db: AsyncEngine, plugins: PluginHost) -> None:
        self.address = address
        self.plugins = plugins
        self.api = api
        self.portfolio = Portfolio(api, org)
        self.bus = bus
        self.db = db


@pytest.fixture
async def live(db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org
               ) -> AsyncIterator[Live]:
    bus = EventBus(settings.event_bus_url())
    app = create_app(settings, engine=db, plugins=plugins, bus=bus)
    async with running(app) as address, httpx.AsyncClient(base_url=f"http://{address}") as http:
        yield Live(address, GraphQLClient(http), org, bus, db, plugins)
    await bus.disconnect()


async def _moves(data: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    return [(d["stageChanged"]["stageChange"]["fromStage"],
             d["stageChanged"]["stageChange"]["toStage"]) for d in data]


async def test_a_connection_without_a_valid_token_is_closed_unauthorized(live: Live) -> None:
    for payload in ({}, {"Authorization": "Bearer spm_not-a-token"}, {"Authorization": 42}):
        async with connect(f"ws://{live.address}/graphql",
                           subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
            await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 5)
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "Unauthorized")


async def test_subscribing_before_connection_init_is_refused(live: Live) -> None:
    async with connect(f"ws://{live.address}/graphql",
                       subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": STAGE_CHANGED}}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_stage_changes_arrive_in_order_with_the_service_read_fresh(
        live: Live, org: Org) -> None:
    async with subscriber(live.address, org.token(Role.VIEWER)) as client:
        await client.subscribe(STAGE_CHANGED)
        await asyncio.sleep(0.2)  # the subscription is listening
        service_id, _ = await live.portfolio.in_analysis("Payroll")
        received = [await client.next_data() for _ in range(2)]
        assert await _moves(received) == [(None, "DEFINITION"), ("DEFINITION", "ANALYSIS")]
        last = received[-1]["stageChanged"]
        assert last["service"] == {"id": service_id, "name": "Payroll", "stage": "ANALYSIS",
                                   "section": "PIPELINE"}
        assert last["stageChange"]["actor"] == {"name": "Portfolio_Manager of acme"}
        assert received[0]["stageChanged"]["cursor"] != last["cursor"]


async def test_filters_narrow_by_service_stage_and_section(live: Live, org: Org) -> None:
    first = (await live.portfolio.create("First"))["id"]
    async with subscriber(live.address, org.token(Role.VIEWER)) as client:
        await client.subscribe(STAGE_CHANGED, {"filter": {"serviceId": first}})
        await client.subscribe(STAGE_CHANGED, {"filter": {"stages": ["ANALYSIS"]}})
        await client.subscribe(STAGE_CHANGED, {"filter": {"sections": ["CATALOGUE"]}})
        await asyncio.sleep(0.2)
        await live.portfolio.add_requirement(first)
        await live.portfolio.transition(first, "ANALYSIS")
        await live.portfolio.create("Second")
        messages = [await client.receive() for _ in range(2)]
        assert sorted(m["id"] for m in messages) == ["1", "2"]
        assert all(m["payload"]["data"]["stageChanged"]["service"]["id"] == first
                   for m in messages)
        assert await client.nothing_within(0.5)


async def test_only_the_subscribers_organisation_is_seen(
        live: Live, org: Org, other_org: Org) -> None:
    other = Portfolio(live.api, other_org)
    async with subscriber(live.address, org.token(Role.VIEWER)) as mine, \
            subscriber(live.address, other_org.token(Role.VIEWER)) as theirs:
        await mine.subscribe(STAGE_CHANGED)
        await theirs.subscribe(STAGE_CHANGED)
        await asyncio.sleep(0.2)
        await other.create("Globex only")
        data = await theirs.next_data()
        assert data["stageChanged"]["service"]["name"] == "Globex only"
        assert await mine.nothing_within(0.5)


async def test_a_rolled_back_mutation_sends_nothing(live: Live, org: Org) -> None:
    service = (await live.portfolio.create("Lonely"))["id"]
    async with subscriber(live.address, org.token(Role.VIEWER)) as client:
        await client.subscribe(STAGE_CHANGED)
        await asyncio.sleep(0.2)
        # No requirement yet: the guard refuses, the transaction is rolled back.
        refused = await live.portfolio.transition(service, "ANALYSIS")
        assert [e["code"] for e in refused["errors"]] == ["GUARD_FAILED"]
        # A change that fails on a concurrent-write conflict is rolled back too.
        stale = await live.portfolio.transition(service, "ANALYSIS", expected_version=99)
        assert stale["errors"]
        assert await client.nothing_within(0.5)


async def test_resuming_after_a_disconnect_loses_nothing_and_repeats_nothing(
        live: Live, org: Org) -> None:
    service, _ = await live.portfolio.in_analysis("Payroll")
    async with subscriber(live.address, org.token(Role.VIEWER)) as client:
        await client.subscribe(STAGE_CHANGED)
        await asyncio.sleep(0.2)
        await live.portfolio.create("Hosting")
        seen = await client.next_data()
    cursor = seen["stageChanged"]["cursor"]
    # While nobody listens: three more changes.
    await live.portfolio.transition(service, "DEFINITION", "rework")
    missed = (await live.portfolio.create("Desk"))["id"]
    await live.portfolio.add_requirement(missed)
    await live.portfolio.transition(missed, "ANALYSIS")

    async with subscriber(live.address, org.token(Role.VIEWER)) as client:
        await client.subscribe(STAGE_CHANGED, {"after": cursor})
        replayed = [await client.next_data() for _ in range(3)]
        assert await _moves(replayed) == [("ANALYSIS", "DEFINITION"), (None, "DEFINITION"),
                                          ("DEFINITION", "ANALYSIS")]
        # ... then live, without repeating the replay.
        await live.portfolio.transition(missed, "DEFINITION", "again")
        after = await client.next_data()
        assert await _moves([after]) == [("ANALYSIS", "DEFINITION")]
        assert await client.nothing_within(0.3)
    cursors = [d["stageChanged"]["cursor"] for d in [*replayed, after]]
    assert len(set(cursors)) == 4


async def test_a_bad_cursor_is_a_coded_error(live: Live, org: Org) -> None:
    async with subscriber(live.address, org.token(Role.VIEWER)) as client:
        await client.subscribe(STAGE_CHANGED, {"after": "not-a-cursor"})
        message = await client.receive()
        assert message["type"] in {"error", "next"}
        errors = (message["payload"] if message["type"] == "error"
                  else message["payload"]["errors"])
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_votes_are_pushed_with_the_round_after_them(live: Live, org: Org) -> None:
    service = await live.portfolio.in_approval("Payroll")
    async with subscriber(live.address, org.token(Role.CONTRIBUTOR)) as client:
        await client.subscribe(VOTE_CAST, {"serviceId": service})
        await asyncio.sleep(0.2)
        await live.portfolio.vote(service, "APPROVE", org.token(Role.DECISION_MAKER), "yes")
        data = (await client.next_data())["voteCast"]
        assert data["vote"] == {"decision": "APPROVE", "comment": "yes",
                                "voter": {"name": "Decision_Maker of acme"}}
        assert data["service"] == {"id": service, "approval": {"status": "APPROVED"}}


async def test_issued_statements_are_pushed(live: Live, org: Org) -> None:
    finance = org.token(Role.FINANCE)
    service = (await live.portfolio.create("Hosting"))["id"]
    customer = (await live.api.data("""mutation { createCustomer(input: {name: "Sales",
        kind: INTERNAL_DEPARTMENT}) { customer { id } } }""", token=finance)
                )["createCustomer"]["customer"]["id"]
    await live.api.data("""mutation($s: ID!, $c: ID!) {
        a: recordCost(input: {serviceId: $s, bookedOn: "2026-03-01", category: "labour",
                              amount: {amount: "90.00", currency: "EUR"}}) { errors { code } }
        b: recordUsage(input: {customerId: $c, serviceId: $s, period: "2026-03",
                               quantity: "3", unit: "GB"}) { errors { code } }
        c: setChargingPolicy(input: {serviceId: $s, model: "cost_recovery"}) {
             errors { code } } }""", {"s": service, "c": customer}, finance)
    async with subscriber(live.address, org.token(Role.VIEWER)) as client:
        await client.subscribe(STATEMENT_ISSUED)
        await asyncio.sleep(0.2)
        await live.api.data("""mutation { issueStatements(input: {period: "2026-03"}) {
            errors { code } } }""", token=finance)
        data = (await client.next_data())["statementIssued"]
        assert data == {"period": "2026-03", "statements": [
            {"customer": {"name": "Sales"}, "total": {"amount": "90.00"}}]}


SERVICE_RETIRING = """
subscription($serviceId: ID) {
  serviceRetiring(serviceId: $serviceId) {
    plannedEndDate
    service { name stage section plannedEndDate }
    stageChange { fromStage toStage reason }
    customers { name }
  }
}"""


async def test_a_retiring_service_is_pushed_with_the_customers_who_use_it(
        live: Live, org: Org) -> None:
    finance = org.token(Role.FINANCE)
    service = await live.portfolio.live("Mail")
    other = await live.portfolio.live("Chat")
    for name in ("Sales", "Legal", "Idle"):
        created = await live.api.data("""mutation($n: String!) { createCustomer(input: {
            name: $n, kind: INTERNAL_DEPARTMENT}) { customer { id } } }""", {"n": name},
                                      finance)
        customer = created["createCustomer"]["customer"]["id"]
        if name != "Idle":
            used = await live.api.data("""mutation($s: ID!, $c: ID!) { recordUsage(input: {
                customerId: $c, serviceId: $s, period: "2026-03", quantity: "3", unit: "GB"})
                { errors { code } } }""", {"s": service, "c": customer}, finance)
            assert used["recordUsage"]["errors"] == []
    async with subscriber(live.address, org.token(Role.VIEWER)) as client:
        await client.subscribe(SERVICE_RETIRING, {"serviceId": service})
        await asyncio.sleep(0.2)
        for service_id in (other, service):  # the other service is filtered out
            moved = await live.portfolio.transition(service_id, "RETIRING", "moving to SaaS",
                                                    planned_end_date="2999-06-30")
            assert moved["errors"] == [], moved
        data = (await client.next_data())["serviceRetiring"]
        assert data == {
            "plannedEndDate": "2999-06-30",
            "service": {"name": "Mail", "stage": "RETIRING", "section": "CATALOGUE",
                        "plannedEndDate": "2999-06-30"},
            "stageChange": {"fromStage": "LIVE", "toStage": "RETIRING",
                            "reason": "moving to SaaS"},
            "customers": [{"name": "Legal"}, {"name": "Sales"}]}


async def test_a_revoked_token_ends_the_subscription_at_the_next_event(
        live: Live, org: Org, db: AsyncEngine) -> None:
    from sqlalchemy import update

    from spm_api.db.base import utcnow
    from spm_api.db.engine import create_session_factory
    from spm_api.models import ApiToken

    async with subscriber(live.address, org.token(Role.VIEWER)) as client:
        await client.subscribe(STAGE_CHANGED)
        await asyncio.sleep(0.2)
        async with create_session_factory(db)() as session, session.begin():
            await session.execute(update(ApiToken).where(
                ApiToken.person_id == org.person_ids[Role.VIEWER]).values(revoked_at=utcnow()))
        await live.portfolio.create("After revocation")
        message = await client.receive()
        errors = (message["payload"] if message["type"] == "error"
                  else message["payload"].get("errors"))
        assert errors and errors[0]["extensions"]["code"] == "UNAUTHENTICATED", message


async def test_subscriptions_per_connection_are_capped(
        db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org) -> None:
    capped = settings.model_copy(update={"max_subscriptions_per_connection": 2})
    bus = EventBus("memory://")
    async with running(create_app(capped, engine=db, plugins=plugins, bus=bus)) as address, \
            subscriber(address, org.token(Role.VIEWER)) as client:
            for _ in range(2):
                await client.subscribe(STAGE_CHANGED)
            third = await client.subscribe(STAGE_CHANGED)
            message = await client.receive()
            assert (message["id"], message["type"]) == (third, "error")
            assert "limit" in message["payload"][0]["message"].lower()
    await bus.disconnect()


async def test_the_server_pings_to_keep_the_connection_alive(
        db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org) -> None:
    quick = settings.model_copy(update={"ws_keep_alive_seconds": 0.2})
    bus = EventBus("memory://")
    async with running(create_app(quick, engine=db, plugins=plugins, bus=bus)) as address, \
            subscriber(address, org.token(Role.VIEWER)) as client:
            raw = await asyncio.wait_for(client.socket.recv(), 2)
            assert json.loads(raw) == {"type": "ping"}
    await bus.disconnect()


async def test_the_legacy_protocol_only_when_enabled(
        db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org) -> None:
    bus = EventBus("memory://")
    async with running(create_app(settings, engine=db, plugins=plugins, bus=bus)) as address, \
            connect(f"ws://{address}/graphql",
                    subprotocols=["graphql-ws"]) as socket:  # type: ignore[list-item]
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(socket.recv(), 5)
    legacy = settings.model_copy(update={"graphql_ws_legacy": True})
    async with running(create_app(legacy, engine=db, plugins=plugins, bus=bus)) as address, \
            connect(f"ws://{address}/graphql",
                    subprotocols=["graphql-ws"]) as socket:  # type: ignore[list-item]
            await socket.send(json.dumps({"type": "connection_init", "payload": {
                "Authorization": f"Bearer {org.token(Role.VIEWER)}"}}))
            assert json.loads(await asyncio.wait_for(socket.recv(), 5))["type"] == (
                "connection_ack")
            await socket.send(json.dumps({"type": "start", "id": "1",
                                          "payload": {"query": STAGE_CHANGED}}))
            await asyncio.sleep(0.2)
            async with httpx.AsyncClient(base_url=f"http://{address}") as http:
                await Portfolio(GraphQLClient(http), org).create("Legacy")
            while True:
                message = json.loads(await asyncio.wait_for(socket.recv(), 5))
                if message["type"] != "ka":
                    break
            assert message["type"] == "data"
            assert message["payload"]["data"]["stageChanged"]["service"]["name"] == "Legacy"
    await bus.disconnect()



def _collected_fields() -> int:
    import gc

    from graphql.execution.collect_fields import CollectedFields

    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, CollectedFields))


async def test_a_long_subscription_does_not_grow_with_each_event(live: Live,
                                                                 org: Org) -> None:
    service = (await live.portfolio.create("Busy"))["id"]
    await live.portfolio.add_requirement(service)
    async with subscriber(live.address, org.token(Role.VIEWER)) as client:
        await client.subscribe(STAGE_CHANGED)
        await asyncio.sleep(0.2)

        async def bounce(times: int) -> None:
            for _ in range(times):
                await live.portfolio.transition(service, "ANALYSIS")
                await live.portfolio.transition(service, "DEFINITION", "again")
                for _ in range(2):
                    await client.next_data()

        await bounce(5)
        before = _collected_fields()
        await bounce(20)
        # graphql-core's per-event memo would keep 3 per event here: 120 more.
        assert _collected_fields() - before < 20


async def test_late_lost_or_reordered_bus_messages_neither_reorder_nor_drop_changes(
        live: Live, org: Org) -> None:
    """The bus only wakes a subscription up; it reads what happened from the history."""
    from sqlalchemy import select

    from spm_api.db.engine import create_session_factory
    from spm_api.models import Service, StageChange
    from spm_api.realtime.messages import StageChangedMessage
    from spm_api.vocabulary.stages import Stage

    quiet = EventBus("memory://")  # changes made here announce nothing on the server's bus
    app = create_app(Settings(database_url=live.db.url.render_as_string(False),
                              plugins="", event_bus="memory"), engine=live.db,
                     plugins=live.plugins, bus=quiet)
    async with subscriber(live.address, org.token(Role.VIEWER)) as client, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                              base_url="http://quiet") as http:
        await client.subscribe(STAGE_CHANGED)
        await asyncio.sleep(0.2)
        silent = Portfolio(GraphQLClient(http), org)
        await silent.create("First")
        await silent.create("Second")
        assert await client.nothing_within(0.3)  # their messages were lost
        async with create_session_factory(live.db)() as session:
            changes = list(await session.scalars(select(StageChange).join(Service).where(
                Service.organisation_id == org.id).order_by(StageChange.id)))
        newest = changes[-1]
        # Only the newest change's message arrives: both are delivered, oldest first.
        await live.bus.publish(StageChangedMessage(org.id, newest.id, newest.service_id,
                                                   None, Stage.DEFINITION.value))
        names = [(await client.next_data())["stageChanged"]["service"]["name"]
                 for _ in range(2)]
        assert names == ["First", "Second"]
        # The older message arriving late repeats nothing.
        await live.bus.publish(StageChangedMessage(org.id, changes[-2].id,
                                                   changes[-2].service_id, None,
                                                   Stage.DEFINITION.value))
        assert await client.nothing_within(0.3)
    await quiet.disconnect()
