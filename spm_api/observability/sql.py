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


def instrument(engine: AsyncEngine) -> None:
    sync = engine.sync_engine

    def before(_connection: Any, _cursor: Any, _statement: Any, _parameters: Any,
               context: Any, _many: bool) -> None:
        if context is not None and CURRENT.get() is not None:
            setattr(context, _STARTED, perf_counter())

    def after(_connection: Any, _cursor: Any, _statement: Any, _parameters: Any,
              context: Any, _many: bool) -> None:
        stats = CURRENT.get()
        if stats is not None:
            stats.statements += 1
            started = getattr(context, _STARTED, None)
            if started is not None:
                stats.sql_seconds += perf_counter() - started

    event.listen(sync, "before_cursor_execute", before)
    event.listen(sync, "after_cursor_execute", after)
    event.listen(sync.pool, "checkout", lambda *_: POOL_IN_USE.inc())
    event.listen(sync.pool, "checkin", lambda *_: POOL_IN_USE.dec())
