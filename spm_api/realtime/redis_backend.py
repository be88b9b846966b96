"""A Redis pub/sub backend for broadcaster whose ``subscribe`` returns only once Redis
has confirmed the subscription, so a subscriber that listens and then replays the
history cannot miss a change published in between, and which reconnects and
subscribes again when the connection to Redis drops (a restart, a failover).

Pub/sub channels are server-wide (the database number in the URL does not separate
them), so deployments sharing one Redis give each their own ``channel_prefix``. The
connections are named (CLIENT SETNAME, ``client_name`` in the URL overrides it) so an
operator can tell the bus's clients in CLIENT LIST."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from broadcaster import Event
from broadcaster._backends.base import BroadcastBackend
from redis import asyncio as redis

#: Seconds to wait for Redis to confirm a SUBSCRIBE.
CONFIRM_TIMEOUT = 5.0
#: Seconds between attempts to reach Redis again, doubling up to the maximum.
RECONNECT_DELAY = 0.2
RECONNECT_DELAY_MAX = 5.0
#: The name of the bus's connections in CLIENT LIST, unless the URL gives a ``client_name``.
CLIENT_NAME = "spm-api-event-bus"

logger = logging.getLogger("spm_api.realtime")


class RedisPubSubBackend(BroadcastBackend):
    def __init__(self, url: str, channel_prefix: str = "") -> None:
        self._url = url
        self._prefix = channel_prefix
        self._client: redis.Redis | None = None
        self._pubsub: redis.client.PubSub | None = None
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._confirmed: dict[str, asyncio.Event] = {}
        self._reader: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self._client = redis.Redis.from_url(self._url, client_name=CLIENT_NAME)
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
        channel = self._prefix + channel
        confirmed = self._confirmed.setdefault(channel, asyncio.Event())
        await self._pubsub.subscribe(channel)
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(confirmed.wait(), CONFIRM_TIMEOUT)

    async def unsubscribe(self, channel: str) -> None:
        assert self._pubsub is not None
        channel = self._prefix + channel
        self._confirmed.pop(channel, None)
        await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: str) -> None:
        assert self._client is not None, "connect first"
        try:
            await self._client.publish(self._prefix + channel, message)
        except (redis.ConnectionError, OSError):
            # A connection Redis dropped fails its next command once; the pool then
            # opens a new one (the same single retry as the PostgreSQL backend's).
            await self._client.publish(self._prefix + channel, message)

    async def problem(self) -> str | None:
        """None when Redis answers a PING (readiness)."""
        if self._client is None:
            return "not connected"
        try:
            async with asyncio.timeout(2):
                await self._client.ping()
        except (redis.RedisError, OSError, TimeoutError) as error:
            return f"Redis does not answer: {type(error).__name__}: {error}"[:300]
        return None

    async def next_published(self) -> Event:
        return await self._queue.get()

    async def _read(self) -> None:
        delay = RECONNECT_DELAY
        while True:
            try:
                await self._read_until_dropped()
            except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
                logger.warning("lost the Redis event bus (%s); reconnecting in %.1f s",
                               error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_DELAY_MAX)
                with contextlib.suppress(redis.ConnectionError, redis.TimeoutError, OSError):
                    await self._resubscribe()
                    delay = RECONNECT_DELAY

    async def _resubscribe(self) -> None:
        """A fresh pub/sub connection listening to every channel it listened to."""
        assert self._client is not None and self._pubsub is not None
        channels = list(self._confirmed)
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        self._pubsub = self._client.pubsub()
        if channels:
            await self._pubsub.subscribe(*channels)
        logger.warning("listening to the Redis event bus again on %d channels", len(channels))

    async def _read_until_dropped(self) -> None:
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
            elif message["type"] == "message" and channel.startswith(self._prefix):
                await self._queue.put(Event(channel=channel[len(self._prefix):],
                                            message=_text(message["data"])))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
