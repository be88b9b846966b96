"""uvicorn's WebSocket protocol as ``spm-api serve`` runs it: the sans-I/O implementation
on the ``websockets`` library that uvicorn picks by default, holding less for each open
connection (``docs/performance.md``, "Memory per connection").

What an open connection no longer keeps: the handshake's request and response (their
headers, ≈ 5 KiB, held by the protocol and by websockets' parser; the ASGI scope keeps
its own copy of the request's headers), an
``asyncio.Queue`` for what the client sent (three deques and an ``Event``, ≈ 3 KiB; a
connection reads one message at a time, so two lists do) and an ``asyncio.Event`` for
the transport's flow control (a deque, ≈ 0.7 KiB). Frames, pings, close codes, limits
and flow control are uvicorn's, unchanged. uvicorn is pinned (``pyproject.toml``):
the attributes replaced here are checked by ``tests/test_websocket_protocol.py``.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.streams import StreamReader

#: What ``spm-api serve`` passes to uvicorn as ``ws``.
IMPORT_PATH = "spm_api.web.websocket_protocol:WebSocketProtocol"


class Inbox:
    """The part of ``asyncio.Queue`` uvicorn's protocol uses (``put_nowait``, ``get``,
    ``empty``), with the same order and cancellation behaviour, in two lists."""

    __slots__ = ("_getters", "_items")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._getters: list[asyncio.Future[None]] = []

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        self._wake_next()

    def get_nowait(self) -> Any:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.pop(0)

    async def get(self) -> Any:
        while not self._items:
            getter = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                with suppress(ValueError):
                    self._getters.remove(getter)
                if self._items and not getter.cancelled():
                    self._wake_next()  # woken, then cancelled: the next getter takes it
                raise
        return self._items.pop(0)

    def _wake_next(self) -> None:
        while self._getters:
            getter = self._getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                return


class Gate:
    """``asyncio.Event``'s ``wait``, ``set``, ``clear`` and ``is_set``, without a deque."""

    __slots__ = ("_open", "_waiters")

    def __init__(self, is_open: bool) -> None:
        self._open = is_open
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._open

    def set(self) -> None:
        if self._open:
            return
        self._open = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._open = False

    async def wait(self) -> bool:
        if self._open:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None:
                with suppress(ValueError):
                    self._waiters.remove(waiter)
        return True


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol, lighter per connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Gate(is_open=True)  # type: ignore[assignment]

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            # Only the handshake reads them; the scope has the request's headers.
            self.request = self.response = None  # type: ignore[assignment]
            restart_parser(self.conn)


def restart_parser(conn: ServerProtocol) -> bool:
    """websockets' server parser is one generator for the whole connection, whose frame
    keeps the parsed handshake request (≈ 3 KiB of headers) as a local. Once the
    connection is open, and while the parser waits at the start of a frame with no byte
    pending, a parser started afresh (which, the connection being open, goes straight to
    frames) is in exactly the same state, without the request. Says whether it did."""
    if conn.state is not State.OPEN or conn.reader.buffer or conn.parser_exc is not None:
        return False
    waiting: Any = conn.parser
    while getattr(waiting, "gi_yieldfrom", None) is not None:
        waiting = waiting.gi_yieldfrom
    if getattr(waiting, "gi_code", None) is not StreamReader.at_eof.__code__:
        return False  # inside a frame, or not the parser this was written for
    parser = conn.parse()
    next(parser)
    conn.parser = parser
    return True
