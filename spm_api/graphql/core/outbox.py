"""One WebSocket connection's bounded send buffer.

A frame offered to a connection with nothing queued is written at once, without a task:
the server's ``send`` completes without waiting whenever the transport takes the bytes,
which is almost always. Only when it has to wait (the client reads slowly and the
transport paused writing) does a writer task take over, finishing that send and then
writing what was queued meanwhile, in order; it ends once nothing is left, so an idle
connection holds no task. Shared events are *offered*:
a connection whose buffer is full is closed with 4413 at once (its client resumes with
``after`` and misses nothing) instead of holding its group back. A connection's own
messages (acks, a private subscription's events) *wait* for room instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

#: Close code of a connection whose send buffer overflowed; resumable.
SEND_BUFFER_FULL = 4413
#: Seconds a close frame may wait for a socket that does not drain before the
#: connection is dropped.
CLOSE_TIMEOUT = 2.0


class Outbox:
    __slots__ = ("_close_task", "_frames", "_limit", "_on_forget", "_room", "_socket",
                 "_writer", "closed")

    def __init__(self, socket: Any, limit: int, on_forget: Callable[[str], None]) -> None:
        self._socket = socket
        self._limit = max(1, limit)
        self._on_forget = on_forget
        self._frames: deque[str] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._room: asyncio.Event | None = None
        self._close_task: asyncio.Task[None] | None = None
        self.closed = False

    def offer(self, frame: str) -> None:
        """Queue a frame without waiting; a full buffer closes the connection."""
        if self.closed:
            return
        frames = self._frames
        if self._writer is None and not frames:
            self._send_now(frame)
            return
        if frames is None:
            frames = self._frames = deque()
        if len(frames) >= self._limit:
            self.close(SEND_BUFFER_FULL, "Send buffer full: resume with after")
            return
        frames.append(frame)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())

    def _send_now(self, frame: str) -> None:
        """Run the socket's ``send`` to its first wait: usually it is done by then (one
        event to 10,000 sockets is then 10,000 calls, not 10,000 tasks); if it waits,
        a writer task finishes it, the frame counting as queued until it is sent."""
        sending = self._socket.send_text(frame)
        try:
            waiting = sending.send(None)
        except StopIteration:
            return
        except Exception:  # the client went away: nothing more to send
            self._stop()
            return
        self._frames = deque((frame,))
        self._writer = asyncio.get_running_loop().create_task(self._write(sending, waiting))

    async def put(self, frame: str) -> None:
        """Queue a frame once there is room."""
        while (not self.closed and self._frames is not None
               and len(self._frames) >= self._limit):
            if self._room is None:
                self._room = asyncio.Event()
            self._room.clear()
            await self._room.wait()
        self.offer(frame)

    def forget_operation(self, operation_id: str) -> None:
        self._on_forget(operation_id)

    async def _write(self, sending: Coroutine[Any, Any, Any] | None = None,
                     waiting: Any = None) -> None:
        frames = self._frames
        try:
            if sending is not None:  # the first frame, begun by ``_send_now``
                await _finish(sending, waiting)
                if frames:
                    frames.popleft()
                if self._room is not None:
                    self._room.set()
            while frames:
                await self._socket.send_text(frames[0])
                frames.popleft()
                if self._room is not None:
                    self._room.set()
        except Exception:  # the client went away: nothing more to send
            self._stop()
        finally:
            self._writer = None
            if not frames:
                self._frames = None  # an idle connection keeps no buffer

    def close(self, code: int, reason: str) -> None:
        """Drop what is queued and close; a socket that does not take the close frame
        in time is dropped."""
        if self.closed:
            return
        self._stop()
        self._close_task = asyncio.get_running_loop().create_task(self._close(code, reason))

    def discard(self) -> None:
        """The connection ended: stop writing."""
        self._stop()

    def _stop(self) -> None:
        self.closed = True
        if self._frames is not None:
            self._frames.clear()
        if self._writer is not None and self._writer is not asyncio.current_task():
            self._writer.cancel()
        if self._room is not None:
            self._room.set()

    async def _close(self, code: int, reason: str) -> None:
        try:
            await asyncio.wait_for(self._socket.close(code=code, reason=reason),
                                   CLOSE_TIMEOUT)
        except Exception:  # a stuck or gone socket: drop it
            transport = _transport_of(getattr(self._socket, "_send", None))
            if transport is not None:
                with contextlib.suppress(Exception):
                    transport.abort()
        finally:
            self._close_task = None


async def _finish(sending: Coroutine[Any, Any, Any], waiting: Any) -> None:
    """Go on with a coroutine that was stepped by hand and is waiting on ``waiting``
    (what it yielded: a future, or None for a bare yield), as a task would: each time
    what it waits on is done, it is resumed and reads the outcome itself. Cancelled
    (the connection closed), it is closed where it waits."""
    while True:
        try:
            if waiting is None:
                await asyncio.sleep(0)
            else:
                waiting._asyncio_future_blocking = False  # taken, as a task takes it
                await waiting
        except asyncio.CancelledError:
            sending.close()
            raise
        except Exception:  # the coroutine reads the outcome itself, below
            pass
        try:
            waiting = sending.send(None)
        except StopIteration:
            return


def _transport_of(send: object, depth: int = 6) -> Any:
    """The server's transport behind an ASGI ``send`` (uvicorn's protocol method, maybe
    wrapped by middleware closures): a close frame cannot reach a client that does not
    read, so its connection is aborted instead."""
    seen: list[object] = [send]
    for _ in range(depth):
        found: list[object] = []
        for candidate in seen:
            owner = getattr(candidate, "__self__", None)
            transport = getattr(owner, "transport", None)
            if transport is not None and hasattr(transport, "abort"):
                return transport
            if owner is not None:
                found.append(owner)
            for cell in getattr(candidate, "__closure__", None) or ():
                with contextlib.suppress(ValueError):
                    if callable(cell.cell_contents):
                        found.append(cell.cell_contents)
        if not found:
            return None
        seen = found
    return None
