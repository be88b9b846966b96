"""A Redis pub/sub backend for broadcaster whose ``subscribe`` returns only once Redis
has confirmed the subscription, so a subscriber that listens and then replays the
history cannot miss a change published in between."""

from __future__ import annotations

import asyncio
import contextlib

from broadcaster import Event
from broadcaster._backends.base import BroadcastBackend
from redis import asyncio as redis

#: Seconds to wait for Redis to confirm a SUBSCRIBE.
CONFIRM_TIMEOUT = 5.0


class RedisPubSubBackend(BroadcastBackend):
    def __init__(self, url: str) -> None:
        self._url = url
        self._client: redis.Redis | None = None
        self._pubsub: redis.client.PubSub | None = None
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._confirmed: dict[str, asyncio.Event] = {}
        self._reader: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self._client = redis.Redis.from_url(self._url)
        await self._client.ping()  # fail at start-up, not at the first event
        self._pubsub = self._client.pubsub()

    async def disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        if self._client is not None:
            await self._client.aclose()

    async def subscribe(self, channel: str) -> None:
        assert self._pubsub is not None, "connect first"
        confirmed = self._confirmed.setdefault(channel, asyncio.Event())
        await self._pubsub.subscribe(channel)
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(confirmed.wait(), CONFIRM_TIMEOUT)

    async def unsubscribe(self, channel: str) -> None:
        assert self._pubsub is not None
        self._confirmed.pop(channel, None)
        await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: str) -> None:
        assert self._client is not None, "connect first"
        await self._client.publish(channel, message)

    async def next_published(self) -> Event:
        return await self._queue.get()

    async def _read(self) -> None:
        assert self._pubsub is not None
        while True:
            if not self._pubsub.subscribed:
                await asyncio.sleep(0.05)
                continue
            message = await self._pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            channel = _text(message["channel"])
            if message["type"] == "subscribe" and channel in self._confirmed:
                self._confirmed[channel].set()
            elif message["type"] == "message":
                await self._queue.put(Event(channel=channel, message=_text(message["data"])))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
