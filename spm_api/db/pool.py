"""The connection pool of a PostgreSQL engine, counting who waits for a connection: the
pool's events tell only of connections handed out and given back, never of a request
queued behind a full pool."""

from __future__ import annotations

from time import perf_counter

from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolProxiedConnection

from spm_api.observability.metrics import POOL_WAIT_SECONDS, POOL_WAITING


class WaitCountingPool(AsyncAdaptedQueuePool):
    """An ``AsyncAdaptedQueuePool`` (the async engines' default) whose ``connect`` is
    counted in ``spm_db_pool_connections_waiting`` while it waits and timed into
    ``spm_db_pool_wait_seconds``."""

    def connect(self) -> PoolProxiedConnection:
        POOL_WAITING.inc()
        started = perf_counter()
        try:
            return super().connect()
        finally:
            POOL_WAITING.dec()
            POOL_WAIT_SECONDS.observe(perf_counter() - started)
