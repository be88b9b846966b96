"""The event bus on each backend: a subscription is in place as soon as ``subscribe``
returns (so a resuming subscriber can listen first and replay after), messages stay
within their organisation's channel, and the wire carries ids and stages only."""

from __future__ import annotations

import asyncio
import json

import pytest

from spm_api.realtime.bus import EventBus
from spm_api.realtime.messages import (
    StageChangedMessage,
    StatementsIssuedMessage,
    VoteCastMessage,
    decode,
    encode,
)
from spm_api.settings import plain_postgres_url
from tests.conftest import POSTGRES_ADMIN_URL, require_postgres
from tests.test_event_bus_processes import REDIS_URL, require_redis


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres),
                        "redis"])
def bus_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "postgres":
        require_postgres()
        return plain_postgres_url(POSTGRES_ADMIN_URL)
    require_redis()
    return REDIS_URL


async def test_subscribed_means_listening_and_channels_are_per_organisation(
        bus_url: str) -> None:
    listener = EventBus(bus_url)
    # The memory backend lives in one process: publisher and listener must share it.
    publisher = listener if bus_url == "memory://" else EventBus(bus_url)
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
        assert all(isinstance(v, (int, list)) or v is None or v in {
            "DEFINITION", "2026-03", message.kind} for v in values), text


@pytest.mark.parametrize("garbage", ["", "{", "[]", '{"kind": "gossip"}',
                                     '{"kind": "vote_cast", "vote_id": 1}'])
def test_messages_this_version_cannot_read_are_ignored(garbage: str) -> None:
    assert decode(garbage) is None


async def test_subscribers_arriving_together_all_receive(bus_url: str) -> None:
    bus = EventBus(bus_url)
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


async def _drop_connections(bus_url: str) -> None:
    """What a database restart or a Redis failover does to the bus's connections."""
    if bus_url.startswith("redis"):
        from redis import asyncio as redis

        admin = redis.Redis.from_url(bus_url)
        try:
            for client in await admin.client_list(_type="pubsub"):
                await admin.client_kill_filter(_id=client["id"])
        finally:
            await admin.aclose()
        return
    import asyncpg

    admin = await asyncpg.connect(bus_url)
    try:
        killed = await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND (query LIKE 'LISTEN%' "
            "OR query LIKE 'SELECT pg_notify%')")
        assert killed, "no event bus connection to drop"
    finally:
        await admin.close()


async def test_the_bus_listens_again_after_its_connection_drops(bus_url: str) -> None:
    if bus_url == "memory://":
        pytest.skip("the memory bus has no connection to lose")
    listener, publisher = EventBus(bus_url), EventBus(bus_url)
    try:
        async with listener.subscribe(9) as messages:
            iterator = aiter(messages)
            await publisher.publish(VoteCastMessage(9, 1, 1, 1))
            assert await asyncio.wait_for(anext(iterator), 5) == VoteCastMessage(9, 1, 1, 1)
            await _drop_connections(bus_url)
            # Publish until the listener is back (it retries within a second or so);
            # the wait for the next message is never cancelled, which would end it.
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
