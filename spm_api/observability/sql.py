"""SQL statements and their time, counted into the request in progress, and the pool's
connections in use: SQLAlchemy engine and pool events, a few attribute updates each."""

from __future__ import annotations

from time import perf_counter
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.observability.metrics import POOL_IN_USE
from spm_api.observability.requests import CURRENT

_STARTED = "spm_started"


def _before(_connection: Any, _cursor: Any, _statement: Any, _parameters: Any,
            context: Any, _many: bool) -> None:
    """Counted here: the planned lane's reads on the driver's own connection announce
    themselves with this event only (``domain/projections.py``), and are not timed."""
    stats = CURRENT.get()
    if stats is not None:
        stats.statements += 1
        if context is not None:
            setattr(context, _STARTED, perf_counter())


def _after(_connection: Any, _cursor: Any, _statement: Any, _parameters: Any,
           context: Any, _many: bool) -> None:
    stats = CURRENT.get()
    started = getattr(context, _STARTED, None)
    if stats is not None and started is not None:
        stats.sql_seconds += perf_counter() - started


def _checked_out(*_: Any) -> None:
    POOL_IN_USE.inc()


def _checked_in(*_: Any) -> None:
    POOL_IN_USE.dec()


def instrument(engine: AsyncEngine) -> None:
    """Listen to ``engine`` (once, however many apps share it)."""
    sync = engine.sync_engine
    if event.contains(sync, "after_cursor_execute", _after):
        return
    event.listen(sync, "before_cursor_execute", _before)
    event.listen(sync, "after_cursor_execute", _after)
    event.listen(sync.pool, "checkout", _checked_out)
    event.listen(sync.pool, "checkin", _checked_in)
