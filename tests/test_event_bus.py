"""The event bus on each backend: a subscription is in place as soon as ``subscribe``
returns (so a resuming subscriber can listen first and replay after), messages stay
within their organisation's channel, and the wire carries ids and stages only.

The buses here use this test process's own PostgreSQL database and Redis channel
prefix; the test that drops connections drops only those of the bus under test."""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from spm_api.realtime.bus import EventBus, channel_of
from spm_api.realtime.messages import (
    StageChangedMessage,
    StatementsIssuedMessage,
    VoteCastMessage,
    decode,
    encode,
)
from spm_api.settings import plain_postgres_url
from tests.conftest import REDIS_CHANNEL_PREFIX, REDIS_URL, require_redis


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres),
                        "redis"])
def bus_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "postgres":
        # This process's own database: NOTIFY channels do not cross databases.
        return plain_postgres_url(request.getfixturevalue("postgres_url"))
    require_redis()
    return REDIS_URL


def bus_on(url: str) -> EventBus:
    return EventBus(url, REDIS_CHANNEL_PREFIX)


def named(url: str, name: str) -> str:
    """``url`` whose connections introduce themselves as ``name`` (``application_name``
    on PostgreSQL, CLIENT SETNAME on Redis)."""
    key = "client_name" if url.startswith("redis") else "application_name"
    parts = urlsplit(url)
    query = f"{parts.query}&{key}={name}" if parts.query else f"{key}={name}"
    return urlunsplit(parts._replace(query=query))


async def test_subscribed_means_listening_and_channels_are_per_organisation(
        bus_url: str) -> None:
    listener = bus_on(bus_url)
    # The memory backend lives in one process: publisher and listener must share it.
    publisher = listener if bus_url == "memory://" else bus_on(bus_url)
    try:
        async with listener.subscribe(41) as messages:
            # No pause: the LISTEN / SUBSCRIBE is confirmed before subscribe returns.
            await publisher.publish(StageChangedMessage(42, 1, 1, None, "DEFINITION"))
            await publisher.publish(StageChangedMessage(41, 7, 3, "ANALYSIS", "APPROVAL"))
            await publisher.publish(VoteCastMessage(41, 9, 2, 3))
            iterator = aiter(messages)
            first = await asyncio.wait_for(anext(iterator), 5)
            second = await asyncio.wait_for(anext(iterator), 5)
        assert first == StageChangedMessage(41, 7, 3, "ANALYSIS", "APPROVAL")
        assert second == VoteCastMessage(41, 9, 2, 3)
    finally:
        await listener.disconnect()
        await publisher.disconnect()


def test_the_wire_carries_ids_and_stages_only() -> None:
    for message in (StageChangedMessage(1, 2, 3, None, "DEFINITION"),
                    VoteCastMessage(1, 2, 3, 4),
                    StatementsIssuedMessage(1, "2026-03")):
        text = encode(message)
        assert decode(text) == message
        values = json.loads(text).values()
        # Ids, stages, the month and the publication time (a float): no names or text.
        assert all(isinstance(v, (int, float, list)) or v is None or v in {
            "DEFINITION", "2026-03", message.kind} for v in values), text


@pytest.mark.parametrize("garbage", ["", "{", "[]", '{"kind": "gossip"}',
                                     '{"kind": "vote_cast", "vote_id": 1}'])
def test_messages_this_version_cannot_read_are_ignored(garbage: str) -> None:
    assert decode(garbage) is None


async def test_subscribers_arriving_together_all_receive(bus_url: str) -> None:
    bus = bus_on(bus_url)
    ready = asyncio.Event()
    entered: list[int] = []

    async def listen(number: int) -> object:
        async with bus.subscribe(7) as messages:
            entered.append(number)
            if len(entered) == 25:
                ready.set()
            return await asyncio.wait_for(anext(aiter(messages)), 5)

    try:
        listeners = [asyncio.create_task(listen(n)) for n in range(25)]
        await asyncio.wait_for(ready.wait(), 5)
        await bus.publish(VoteCastMessage(7, 1, 1, 1))
        received = await asyncio.gather(*listeners)
        assert received == [VoteCastMessage(7, 1, 1, 1)] * 25
    finally:
        await bus.disconnect()


async def _drop_connections(bus_url: str, name: str) -> None:
    """What a database restart or a Redis failover does to a bus's connections, done to
    the connections named ``name`` only (never to anyone else's on the server)."""
    if bus_url.startswith("redis"):
        from redis import asyncio as redis

        admin = redis.Redis.from_url(REDIS_URL)
        try:
            ours = [client for client in await admin.client_list()
                    if client.get("name") == name]
            for client in ours:
                await admin.client_kill_filter(_id=client["id"])
        finally:
            await admin.aclose()
        assert ours, "no event bus connection to drop"
        return
    import asyncpg

    admin = await asyncpg.connect(bus_url)
    try:
        killed = await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = $1 "
            "AND pid <> pg_backend_pid()", name)
        assert killed, "no event bus connection to drop"
    finally:
        await admin.close()


async def _dropped_and_back(bus_url: str) -> None:
    """A bus whose connections are dropped while it listens, published to until its
    listener hears again (within a second or so)."""
    name = f"spm_test_bus_{uuid.uuid4().hex[:8]}"
    listener, publisher = bus_on(named(bus_url, name)), bus_on(named(bus_url, name))
    try:
        async with listener.subscribe(9) as messages:
            iterator = aiter(messages)
            await publisher.publish(VoteCastMessage(9, 1, 1, 1))
            assert await asyncio.wait_for(anext(iterator), 5) == VoteCastMessage(9, 1, 1, 1)
            await _drop_connections(bus_url, name)
            # The wait for the next message is never cancelled, which would end it.
            arrival = asyncio.ensure_future(anext(iterator))
            for attempt in range(2, 40):
                await publisher.publish(VoteCastMessage(9, attempt, 1, 1))
                done, _ = await asyncio.wait({arrival}, timeout=0.5)
                if done:
                    break
            assert arrival.done(), "the bus never came back"
            message = arrival.result()
            assert isinstance(message, VoteCastMessage) and message.vote_id >= 2
    finally:
        await listener.disconnect()
        await publisher.disconnect()


async def test_the_bus_listens_again_after_its_connection_drops(bus_url: str) -> None:
    if bus_url == "memory://":
        pytest.skip("the memory bus has no connection to lose")
    await _dropped_and_back(bus_url)


class PostgresBystander:
    """Someone else listening to the bus's channel on the same database."""

    async def start(self, url: str) -> None:
        import asyncpg

        self.connection = await asyncpg.connect(url)
        self.pid = self.connection.get_server_pid()
        self.terminated = False
        self.heard: list[str] = []

        def terminated(_connection: object) -> None:
            self.terminated = True

        self.connection.add_termination_listener(terminated)
        await self.connection.add_listener(
            channel_of(9), lambda _c, _pid, _channel, payload: self.heard.append(payload))

    async def assert_untouched(self) -> None:
        # The same backend, still answering: it was never terminated.
        assert await self.connection.fetchval("SELECT pg_backend_pid()") == self.pid
        assert not self.terminated
        assert len(self.heard) >= 2, "the bystander stopped hearing the channel"

    async def close(self) -> None:
        await self.connection.close()


class RedisBystander:
    """Someone else subscribed to the bus's channel on the same Redis server."""

    async def start(self, url: str) -> None:
        from redis import asyncio as redis

        self.name = f"spm_test_bystander_{uuid.uuid4().hex[:8]}"
        self.client = redis.Redis.from_url(named(url, self.name))
        self.pubsub = self.client.pubsub()
        await self.pubsub.subscribe(REDIS_CHANNEL_PREFIX + channel_of(9))
        confirmed = await self.pubsub.get_message(timeout=5)
        assert confirmed is not None and confirmed["type"] == "subscribe", confirmed
        self.ids = await self._connection_ids()
        assert len(self.ids) == 2  # its pub/sub connection and its command connection

    async def _connection_ids(self) -> set[str]:
        return {client["id"] for client in await self.client.client_list()
                if client.get("name") == self.name}

    async def assert_untouched(self) -> None:
        # Redis gives a reconnection a new id: the same ids mean never dropped.
        assert await self._connection_ids() == self.ids
        heard: list[str] = []
        while len(heard) < 2:
            message = await self.pubsub.get_message(timeout=5)
            assert message is not None, f"the bystander heard only {heard}"
            heard.append(message["type"])
        assert heard == ["message", "message"]

    async def close(self) -> None:
        await self.pubsub.aclose()  # type: ignore[no-untyped-call]
        await self.client.aclose()


async def test_dropping_the_bus_connections_leaves_everyone_else_connected(
        bus_url: str) -> None:
    """Another listener on the same server, database and channel (another deployment,
    another test run) keeps its connection while the bus under test loses its own."""
    if bus_url == "memory://":
        pytest.skip("the memory bus has no connection to lose")
    bystander = RedisBystander() if bus_url.startswith("redis") else PostgresBystander()
    await bystander.start(bus_url)
    try:
        await _dropped_and_back(bus_url)
        await bystander.assert_untouched()
    finally:
        await bystander.close()


async def test_redis_buses_with_different_channel_prefixes_do_not_hear_each_other() -> None:
    """Pub/sub channels span the Redis server: the prefix keeps deployments apart."""
    require_redis()
    ours, theirs = EventBus(REDIS_URL, REDIS_CHANNEL_PREFIX), EventBus(
        REDIS_URL, f"{REDIS_CHANNEL_PREFIX}other:")
    try:
        async with ours.subscribe(5) as messages:
            await theirs.publish(VoteCastMessage(5, 1, 1, 1))
            await ours.publish(VoteCastMessage(5, 2, 1, 1))
            assert await asyncio.wait_for(anext(aiter(messages)), 5) == VoteCastMessage(
                5, 2, 1, 1)
    finally:
        await ours.disconnect()
        await theirs.disconnect()
