"""A PostgreSQL LISTEN/NOTIFY backend for broadcaster that keeps listening and
publishing on separate connections, each used by one coroutine at a time (an asyncpg
connection refuses a second operation while one is in progress)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from broadcaster import Event
from broadcaster._backends.base import BroadcastBackend


class PostgresNotifyBackend(BroadcastBackend):
    def __init__(self, url: str) -> None:
        self._url = url
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._listen_lock = asyncio.Lock()
        self._publish_lock = asyncio.Lock()
        self._listening: Any = None
        self._publishing: Any = None

    async def connect(self) -> None:
        self._listening = await asyncpg.connect(self._url)
        self._publishing = await asyncpg.connect(self._url)

    async def disconnect(self) -> None:
        for connection in (self._listening, self._publishing):
            if connection is not None:
                await connection.close()

    async def subscribe(self, channel: str) -> None:
        """Returns once the LISTEN has been executed: from then on nothing is missed."""
        async with self._listen_lock:
            await self._listening.add_listener(channel, self._notified)

    async def unsubscribe(self, channel: str) -> None:
        async with self._listen_lock:
            await self._listening.remove_listener(channel, self._notified)

    async def publish(self, channel: str, message: str) -> None:
        async with self._publish_lock:
            await self._publishing.execute("SELECT pg_notify($1, $2)", channel, message)

    async def next_published(self) -> Event:
        return await self._queue.get()

    def _notified(self, _connection: Any, _pid: int, channel: str, payload: str) -> None:
        self._queue.put_nowait(Event(channel=channel, message=payload))
