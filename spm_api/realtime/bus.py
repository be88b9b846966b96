"""The event bus: broadcaster's memory, PostgreSQL LISTEN/NOTIFY or Redis pub/sub
backend, one channel per organisation."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from broadcaster import Broadcast
from broadcaster._backends.base import BroadcastBackend
from broadcaster._backends.memory import MemoryBackend

from spm_api.observability.metrics import EVENTS_PUBLISHED
from spm_api.realtime.messages import Message, decode, encode
from spm_api.realtime.postgres_backend import PostgresNotifyBackend
from spm_api.realtime.redis_backend import RedisPubSubBackend

logger = logging.getLogger("spm_api.realtime")


def _backend_for(url: str, redis_channel_prefix: str) -> BroadcastBackend:
    scheme = url.split("://", 1)[0]
    if scheme in ("redis", "rediss"):
        return RedisPubSubBackend(url, redis_channel_prefix)
    if scheme in ("postgres", "postgresql"):
        return PostgresNotifyBackend(url)
    if scheme == "memory":
        return MemoryBackend(url)
    raise ValueError(f"no event bus for {scheme!r} URLs: use memory://, postgresql:// or "
                     f"redis://")


def channel_of(organisation_id: int) -> str:
    return f"spm_org_{organisation_id}"


class EventBus:
    """Connects on first use, so publishing works whichever code path starts first.

    ``redis_channel_prefix`` goes before every channel name on Redis, whose channels
    are shared by everything on the server (PostgreSQL's are per database already)."""

    def __init__(self, url: str, redis_channel_prefix: str = "") -> None:
        self.url = url
        self._backend = _backend_for(url, redis_channel_prefix)
        self._broadcast = Broadcast(backend=self._backend)
        self._connected = False
        self._connecting = asyncio.Lock()
        # broadcaster's first subscriber of a channel awaits the backend before it
        # registers its queue; a second one arriving meanwhile would replace it. Entering
        # and leaving a subscription one at a time keeps every queue registered.
        self._subscribing = asyncio.Lock()

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
        stamped = replace(message, published_at=time.time())
        await self._broadcast.publish(channel_of(message.organisation_id), encode(stamped))
        EVENTS_PUBLISHED.labels(type(message).__name__).inc()

    async def problem(self) -> str | None:
        """Why the bus cannot carry messages now (readiness), or None when it can. Like
        any use, asking connects it first."""
        try:
            await self.connect()
        except Exception as error:  # the reason, in one line
            return f"cannot connect: {type(error).__name__}: {error}"[:300]
        check = getattr(self._backend, "problem", None)
        return None if check is None else await check()

    @asynccontextmanager
    async def subscribe(self, organisation_id: int) -> AsyncIterator[AsyncIterator[Message]]:
        """The organisation's messages from the moment this is entered (on PostgreSQL
        and Redis, once the LISTEN or SUBSCRIBE has been acknowledged)."""
        await self.connect()
        subscription = self._broadcast.subscribe(channel_of(organisation_id))
        async with self._subscribing:
            subscriber = await subscription.__aenter__()
        try:
            yield _messages(subscriber)
        finally:
            async with self._subscribing:
                await subscription.__aexit__(None, None, None)


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
