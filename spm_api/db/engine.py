"""Async engine and session factory for SQLite and PostgreSQL alike."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from spm_api.db.pool import WaitCountingPool
from spm_api.settings import Settings


@dataclass(frozen=True)
class PoolLimits:
    """How many connections a pool keeps, how many more it may open under load, and how
    long a request waits for one before it fails."""

    size: int = 5
    overflow: int = 10
    timeout: float = 30.0


def engine_from_settings(settings: Settings, url: str | None = None, **extra: Any
                         ) -> AsyncEngine:
    """The engine the settings describe for ``url`` (the primary's by default)."""
    return create_engine(url or settings.database_url, echo=settings.echo_sql,
                         ping_idle_seconds=settings.database_ping_idle_seconds,
                         pgbouncer=settings.database_pgbouncer,
                         pool=PoolLimits(settings.database_pool_size,
                                         settings.database_pool_max_overflow,
                                         settings.database_pool_timeout), **extra)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, *, echo: bool = False, ping_idle_seconds: float = 1.0,
                  pgbouncer: bool = False, connect_timeout: float | None = None,
                  pool: PoolLimits | None = None) -> AsyncEngine:
    """Engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout. A pooled
    PostgreSQL connection idle for ``ping_idle_seconds`` or more is pinged before use
    (replaced if the server dropped it); 0 pings before every use. ``pgbouncer``: the
    URL is a PgBouncer in transaction mode (``pgbouncer_connect_args``);
    ``connect_timeout`` bounds opening a PostgreSQL connection (asyncpg's default: 60 s);
    ``pool`` sizes a PostgreSQL engine's pool (SQLAlchemy's defaults: 5 + 10, 30 s)."""
    kwargs: dict[str, Any] = {"echo": echo}
    if is_sqlite(url):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        connect_args: dict[str, Any] = pgbouncer_connect_args() if pgbouncer else {}
        if connect_timeout is not None:
            connect_args["timeout"] = connect_timeout
        if connect_args:
            kwargs["connect_args"] = connect_args
        if ping_idle_seconds <= 0:
            kwargs["pool_pre_ping"] = True
        kwargs["poolclass"] = WaitCountingPool
        if pool is not None:
            kwargs.update(pool_size=pool.size, max_overflow=pool.overflow,
                          pool_timeout=pool.timeout)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
    elif ping_idle_seconds > 0:
        _ping_when_idle(engine, ping_idle_seconds)
    return engine


def pgbouncer_connect_args() -> dict[str, Any]:
    """A server connection behind PgBouncer's transaction pooling is another client's
    after every transaction, so no statement may outlive one under a name another could
    take: asyncpg's own statement cache (the planned path's raw reads) is off, and so is
    SQLAlchemy's; the statements SQLAlchemy still prepares are named uniquely."""
    return {"statement_cache_size": 0, "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": _unique_statement_name}


def _unique_statement_name() -> str:
    return f"__spm_{uuid.uuid4().hex}__"


def _ping_when_idle(engine: AsyncEngine, seconds: float) -> None:
    """SQLAlchemy's pre-ping costs three round trips on asyncpg (``BEGIN``, ``;``,
    ``ROLLBACK``) at every checkout, as many as a small query's own. A connection back
    in use within ``seconds`` was just working; only one idle for longer (which a
    restart or an idle timeout may have dropped) is pinged, and discarded for a fresh
    one when the ping fails."""
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    def checked_in(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    def checked_out(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry,
                    _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # any failure: the pool connects anew and retries
            raise DisconnectionError(f"a pooled connection no longer answers: {error}"
                                     ) from error

    event.listen(pool, "checkin", checked_in)
    event.listen(pool, "checkout", checked_out)


def _configure_sqlite(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # SQLite's own lower() folds only A-Z; searches must match "École" with "école".
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (no implicit refresh IO)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
