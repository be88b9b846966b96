"""A PostgreSQL LISTEN/NOTIFY backend for broadcaster that keeps listening and
publishing on separate connections, each used by one coroutine at a time (an asyncpg
connection refuses a second operation while one is in progress), and reconnects when
the database drops either (a restart, a failover, a terminated backend).

Both connections carry an ``application_name`` (the URL's, or ``spm-api event bus``),
so an operator can tell them in ``pg_stat_activity``. NOTIFY channels are per
database: deployments on separate databases of one server never hear each other."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
from broadcaster import Event
from broadcaster._backends.base import BroadcastBackend

logger = logging.getLogger("spm_api.realtime")

#: Seconds between attempts to reach the database again, doubling up to the maximum.
RECONNECT_DELAY = 0.2
RECONNECT_DELAY_MAX = 5.0

DROPPED = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)
#: What a connection the server terminated may raise on its next use.
BROKEN = (*DROPPED, asyncpg.InternalClientError, asyncpg.AdminShutdownError)
#: The bus's connections in ``pg_stat_activity``, unless the URL names them.
APPLICATION_NAME = "spm-api event bus"


class PostgresNotifyBackend(BroadcastBackend):
    def __init__(self, url: str) -> None:
        self._url = url
        named = "application_name" in parse_qs(urlsplit(url).query)
        self._server_settings = {} if named else {"application_name": APPLICATION_NAME}
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._listen_lock = asyncio.Lock()
        self._publish_lock = asyncio.Lock()
        self._channels: set[str] = set()
        self._listening: Any = None
        self._publishing: Any = None
        self._relistening: asyncio.Task[None] | None = None
        self._closing = False

    async def connect(self) -> None:
        self._listening = await self._listener_connection()
        self._publishing = await self._connect()

    async def disconnect(self) -> None:
        self._closing = True
        if self._relistening is not None:
            self._relistening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relistening
        for connection in (self._listening, self._publishing):
            if connection is not None and not connection.is_closed():
                await connection.close()

    async def subscribe(self, channel: str) -> None:
        """Returns once the LISTEN has been executed: from then on nothing is missed."""
        async with self._listen_lock:
            self._channels.add(channel)
            await self._listening.add_listener(channel, self._notified)

    async def unsubscribe(self, channel: str) -> None:
        async with self._listen_lock:
            self._channels.discard(channel)
            with contextlib.suppress(*DROPPED):
                await self._listening.remove_listener(channel, self._notified)

    async def publish(self, channel: str, message: str) -> None:
        async with self._publish_lock:
            try:
                await self._publishing.execute("SELECT pg_notify($1, $2)", channel, message)
            except BROKEN:
                with contextlib.suppress(Exception):
                    self._publishing.terminate()
                self._publishing = await self._connect()
                await self._publishing.execute("SELECT pg_notify($1, $2)", channel, message)

    async def problem(self) -> str | None:
        """None while the listening connection is up (readiness)."""
        if self._listening is None or self._listening.is_closed() or (
                self._relistening is not None and not self._relistening.done()):
            return "the PostgreSQL LISTEN connection is down (reconnecting)"
        return None

    async def next_published(self) -> Event:
        return await self._queue.get()

    async def _connect(self) -> Any:
        return await asyncpg.connect(self._url, server_settings=self._server_settings)

    def _notified(self, _connection: Any, _pid: int, channel: str, payload: str) -> None:
        self._queue.put_nowait(Event(channel=channel, message=payload))

    async def _listener_connection(self) -> Any:
        connection = await self._connect()
        connection.add_termination_listener(self._terminated)
        return connection

    def _terminated(self, _connection: Any) -> None:
        if not self._closing and (self._relistening is None or self._relistening.done()):
            logger.warning("lost the PostgreSQL event bus; reconnecting")
            self._relistening = asyncio.get_running_loop().create_task(self._relisten())

    async def _relisten(self) -> None:
        """A new listening connection with every channel listened to again."""
        delay = RECONNECT_DELAY
        while not self._closing:
            try:
                async with self._listen_lock:
                    connection = await self._listener_connection()
                    for channel in self._channels:
                        await connection.add_listener(channel, self._notified)
                    self._listening = connection
                logger.warning("listening to the PostgreSQL event bus again on %d channels",
                               len(self._channels))
                return
            except DROPPED as error:
                logger.warning("the PostgreSQL event bus is still unreachable (%s)", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_DELAY_MAX)
