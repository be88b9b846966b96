"""The event bus: broadcaster's memory, PostgreSQL LISTEN/NOTIFY or Redis pub/sub
backend, one channel per organisation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from broadcaster import Broadcast

from spm_api.realtime.messages import Message, decode, encode
from spm_api.realtime.redis_backend import RedisPubSubBackend

logger = logging.getLogger("spm_api.realtime")


def channel_of(organisation_id: int) -> str:
    return f"spm_org_{organisation_id}"


class EventBus:
    """Connects on first use, so publishing works whichever code path starts first."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._broadcast = (Broadcast(backend=RedisPubSubBackend(url))
                           if url.startswith(("redis://", "rediss://")) else Broadcast(url))
        self._connected = False
        self._connecting = asyncio.Lock()

    @property
    def backend(self) -> str:
        return self.url.split("://", 1)[0]

    async def connect(self) -> None:
        async with self._connecting:
            if not self._connected:
                await self._broadcast.connect()
                self._connected = True

    async def disconnect(self) -> None:
        async with self._connecting:
            if self._connected:
                self._connected = False
                await self._broadcast.disconnect()

    async def publish(self, message: Message) -> None:
        await self.connect()
        await self._broadcast.publish(channel_of(message.organisation_id), encode(message))

    @asynccontextmanager
    async def subscribe(self, organisation_id: int) -> AsyncIterator[AsyncIterator[Message]]:
        """The organisation's messages from the moment this is entered (on PostgreSQL
        and Redis, once the LISTEN or SUBSCRIBE has been acknowledged)."""
        await self.connect()
        async with self._broadcast.subscribe(channel_of(organisation_id)) as subscriber:
            yield _messages(subscriber)


async def _messages(subscriber: object) -> AsyncIterator[Message]:
    async for event in subscriber:  # type: ignore[attr-defined]
        if event is None:
            return
        message = decode(event.message)
        if message is None:
            logger.warning("ignored an event bus message this version cannot read: %.200s",
                           event.message)
            continue
        yield message
