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
