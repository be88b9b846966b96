"""What SIGTERM sets in motion under ``spm-api serve``: readiness turns false at once;
after ``SPM_SHUTDOWN_DRAIN_SECONDS`` (time for a load balancer to notice) uvicorn stops
accepting, lets requests in flight finish for up to ``SPM_SHUTDOWN_TIMEOUT_SECONDS``,
closes WebSockets with 1012 (Service Restart: reconnect and resume with ``after``), and
the lifespan stops the outbox worker."""

from __future__ import annotations

import asyncio
import signal
import threading
from dataclasses import dataclass
from types import FrameType
from typing import Any


@dataclass
class ShutdownState:
    draining: bool = False


def install(state: ShutdownState, drain_seconds: float) -> None:
    """Put a handler in front of uvicorn's SIGTERM handler (only under a uvicorn server,
    in its main thread: never in a test process)."""
    import uvicorn

    if threading.current_thread() is not threading.main_thread():
        return
    previous: Any = signal.getsignal(signal.SIGTERM)
    if not isinstance(getattr(previous, "__self__", None), uvicorn.Server):
        return
    loop = asyncio.get_running_loop()

    def terminate(sig: int, frame: FrameType | None) -> None:
        if state.draining or drain_seconds <= 0:  # a second SIGTERM does not wait
            state.draining = True
            previous(sig, frame)
            return
        state.draining = True
        loop.call_soon_threadsafe(loop.call_later, drain_seconds, previous, sig, None)

    signal.signal(signal.SIGTERM, terminate)
