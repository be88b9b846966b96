"""Fan-out over a real WebSocket against uvicorn: subscribers that would see the same
payload share one read, and nobody is ever given another's; a client that never reads
is closed without delaying the rest; resuming misses nothing; the caps close with
their codes."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from spm_api.app import GraphQLApp, create_app
from spm_api.graphql.core.fanout import FanOut
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org, Portfolio
from tests.ws import PROTOCOL, running, subscriber

STAGE_CHANGED = """
subscription($filter: StageChangeFilter, $after: String) {
  stageChanged(filter: $filter, after: $after) {
    cursor
    stageChange { fromStage toStage }
    service { id name stage }
  }
}"""

#: A heavy selection (≈ 30 copies of a long summary per event), to fill a socket fast.
HEAVY = ("subscription { stageChanged { cursor " + " ".join(
    f"s{i}: service {{ summary }}" for i in range(29)) + " } }")


def fanout_of(app: Any) -> FanOut:
    for route in app.routes:
        endpoint = getattr(route, "app", None)
        if isinstance(endpoint, GraphQLApp):
            return endpoint.fanout
    raise AssertionError("no GraphQL endpoint")


class Server:
    def __init__(self, address: str, app: Any, api: GraphQLClient, org: Org,
                 bus: EventBus) -> None:
        self.address = address
        self.app = app
        self.api = api
        self.portfolio = Portfolio(api, org)
        self.bus = bus

    @property
    def fanout(self) -> FanOut:
        return fanout_of(self.app)


@asynccontextmanager
async def serving(db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org,
                  **changes: Any) -> AsyncIterator[Server]:
    bus = EventBus(settings.event_bus_url())
    app = create_app(settings.model_copy(update=changes), engine=db, plugins=plugins,
                     bus=bus)
    async with running(app) as address, \
            httpx.AsyncClient(base_url=f"http://{address}", timeout=30) as http:
        yield Server(address, app, GraphQLClient(http), org, bus)
    await bus.disconnect()


@pytest.fixture
async def server(db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org
                 ) -> AsyncIterator[Server]:
    async with serving(db, settings, plugins, org) as running_server:
        yield running_server


async def test_subscribers_with_the_same_view_share_one_group_and_get_their_own_ids(
        server: Server, org: Org) -> None:
    async with subscriber(server.address, org.token(Role.VIEWER)) as first, \
            subscriber(server.address, org.token(Role.VIEWER)) as second:
        await first.subscribe(STAGE_CHANGED)
        await second.subscribe("query { __typename }")  # id 1 elsewhere: not a subscription
        await second.receive()
        await second.receive()
        await second.subscribe(STAGE_CHANGED)
        await asyncio.sleep(0.2)
        assert len(server.fanout.groups) == 1
        await server.portfolio.create("Shared")
        one, two = await first.receive(), await second.receive()
        assert (one["id"], two["id"]) == ("1", "2")
        assert one["payload"] == two["payload"]
        assert one["payload"]["data"]["stageChanged"]["service"]["name"] == "Shared"


async def test_different_roles_or_filters_are_never_given_each_others_payload(
        server: Server, org: Org) -> None:
    first = (await server.portfolio.create("First"))["id"]
    second = (await server.portfolio.create("Second"))["id"]
    async with subscriber(server.address, org.token(Role.VIEWER)) as viewer, \
            subscriber(server.address, org.token(Role.PORTFOLIO_MANAGER)) as manager, \
            subscriber(server.address, org.token(Role.VIEWER)) as narrow:
        await viewer.subscribe(STAGE_CHANGED)
        await manager.subscribe(STAGE_CHANGED)
        await narrow.subscribe(STAGE_CHANGED, {"filter": {"serviceId": second}})
        await asyncio.sleep(0.2)
        keys = list(server.fanout.groups)
        assert len(keys) == 3  # roles and variables each make a group of their own
        assert {key.roles for key in keys} == {frozenset({Role.VIEWER}),
                                               frozenset({Role.PORTFOLIO_MANAGER})}
        await server.portfolio.add_requirement(first)
        await server.portfolio.transition(first, "ANALYSIS")
        await server.portfolio.add_requirement(second)
        await server.portfolio.transition(second, "ANALYSIS")
        for client in (viewer, manager):
            names = [(await client.next_data())["stageChanged"]["service"]["name"]
                     for _ in range(2)]
            assert names == ["First", "Second"]
        only = await narrow.next_data()
        assert only["stageChanged"]["service"]["name"] == "Second"
        assert await narrow.nothing_within(0.3)


async def test_another_organisations_subscriber_receives_nothing(
        server: Server, org: Org, other_org: Org) -> None:
    async with subscriber(server.address, org.token(Role.VIEWER)) as mine, \
            subscriber(server.address, other_org.token(Role.VIEWER)) as theirs:
        await mine.subscribe(STAGE_CHANGED)
        await theirs.subscribe(STAGE_CHANGED)
        await asyncio.sleep(0.2)
        assert {key.organisation_id for key in server.fanout.groups} == {org.id, other_org.id}
        await server.portfolio.create("Acme only")
        assert (await mine.next_data())["stageChanged"]["service"]["name"] == "Acme only"
        assert await theirs.nothing_within(0.5)


@asynccontextmanager
async def never_reading(address: str, token: str) -> AsyncIterator[Any]:
    """A subscribed connection that stops reading, with a small receive buffer."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = address.split(":")
    raw.connect((host, int(port)))
    raw.setblocking(False)
    async with connect(f"ws://{address}/graphql", sock=raw, subprotocols=[PROTOCOL],  # type: ignore[list-item]
                       ping_interval=None, max_queue=1, compression=None) as ws:
        await ws.send(json.dumps({"type": "connection_init",
                                  "payload": {"Authorization": f"Bearer {token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": HEAVY}}))
        yield ws


async def test_a_client_that_never_reads_is_closed_and_the_others_are_on_time(
        db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org) -> None:
    async with serving(db, settings, plugins, org, ws_send_buffer_messages=4) as server, \
            never_reading(server.address, org.token(Role.VIEWER)), \
            subscriber(server.address, org.token(Role.VIEWER)) as reader:
        await reader.subscribe(HEAVY)
        await asyncio.sleep(0.2)
        assert len(server.fanout.groups) == 1
        assert server.fanout.connections == 2
        summary = "x" * 10_000
        for number in range(30):
            await server.portfolio.create(f"Heavy {number}", summary=summary)
            data = await reader.next_data(within=5)
            assert data["stageChanged"]["s0"]["summary"] == summary
        # The stuck connection was closed (4413, resumable) once its buffer overflowed.
        for _ in range(100):
            if server.fanout.connections == 1:
                break
            await asyncio.sleep(0.05)
        assert server.fanout.connections == 1


async def test_a_resuming_client_misses_nothing_while_its_group_goes_on(
        server: Server, org: Org) -> None:
    async with subscriber(server.address, org.token(Role.VIEWER)) as steady:
        await steady.subscribe(STAGE_CHANGED)
        async with subscriber(server.address, org.token(Role.VIEWER)) as leaving:
            await leaving.subscribe(STAGE_CHANGED)
            await asyncio.sleep(0.2)
            await server.portfolio.create("Before")
            cursor = (await leaving.next_data())["stageChanged"]["cursor"]
        missed = [f"Missed {n}" for n in range(3)]
        for name in missed:
            await server.portfolio.create(name)
        async with subscriber(server.address, org.token(Role.VIEWER)) as back:
            await back.subscribe(STAGE_CHANGED, {"after": cursor})
            replayed = [(await back.next_data())["stageChanged"]["service"]["name"]
                        for _ in missed]
            assert replayed == missed
            await server.portfolio.create("Live")
            assert (await back.next_data())["stageChanged"]["service"]["name"] == "Live"
            assert await back.nothing_within(0.3)
        names = [(await steady.next_data())["stageChanged"]["service"]["name"]
                 for _ in range(5)]
        assert names == ["Before", *missed, "Live"]


async def test_connections_over_the_cap_are_closed_with_4503(
        db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org) -> None:
    async with serving(db, settings, plugins, org, ws_max_connections=1) as server, \
            subscriber(server.address, org.token(Role.VIEWER)):
        async with connect(f"ws://{server.address}/graphql",
                           subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 5)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
            4503, "Too many connections")


async def test_an_organisations_subscriptions_over_the_cap_close_with_4504(
        db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org,
        other_org: Org) -> None:
    async with serving(db, settings, plugins, org,
                       ws_max_subscriptions_per_organisation=2) as server, \
            subscriber(server.address, org.token(Role.VIEWER)) as client, \
            subscriber(server.address, other_org.token(Role.VIEWER)) as other:
        await client.subscribe(STAGE_CHANGED)
        await client.subscribe(STAGE_CHANGED, {"after": None, "filter": {"stages": ["LIVE"]}})
        await other.subscribe(STAGE_CHANGED)  # another organisation: its own count
        await client.subscribe(STAGE_CHANGED, {"filter": {"sections": ["CATALOGUE"]}})
        with pytest.raises(ConnectionClosed) as closed:
            await client.receive()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4504
        await asyncio.sleep(0.2)
        await Portfolio(server.api, other_org).create("Still served")
        assert (await other.next_data())["stageChanged"]["service"]["name"] == "Still served"
