"""GraphQL queries read from a PostgreSQL streaming replica; a person reads back what they
just wrote.

After a mutation commits, the primary's WAL position (``pg_current_wal_lsn()``) is kept
for the person who wrote (``WrittenPositions``: in this process, or in Redis for every
process) and sent back in the ``SPM-LSN`` response header, which a client may echo on
its next requests to any process. A query reads the replica when neither says anything,
or once the replica has replayed up to the later of the two
(``pg_last_wal_replay_lsn()``, asked only while a write is outstanding); otherwise, and
whenever the replica cannot be reached, it reads the primary.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from spm_api.db.engine import create_session_factory
from spm_api.observability.metrics import DB_READS, REPLICA_LAG_SECONDS

log = logging.getLogger("spm_api.replica")

#: The response header a mutation's position comes in, and the request header a client
#: sends it back in.
LSN_HEADER = "spm-lsn"
#: Failures to reach the replica (or to ask it where it is) that send a read to the
#: primary; SQLAlchemy wraps the driver's own.
UNREACHABLE: tuple[type[BaseException], ...] = (OSError, TimeoutError, SQLAlchemyError)

_CURRENT = text("SELECT pg_current_wal_lsn()::text")
_REPLAYED = text("SELECT pg_last_wal_replay_lsn()::text")
#: Seconds the replica is behind: none while it has replayed all it received and is
#: still streaming; else since the last transaction it replayed (an idle primary makes
#: that an overestimate, which only sends reads to the primary until the next commit).
_LAG = text("""
SELECT CASE
  WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
       AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 0
  ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
END::float8
""")
_AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}
#: Seconds between two questions of how far behind the replica is, per process.
LAG_CHECK_SECONDS = 1.0


def parse_lsn(value: str | None) -> int | None:
    """``16/B374D848`` as a number (None for anything else: a header is only a hint)."""
    if not value:
        return None
    high, slash, low = value.strip().partition("/")
    if not slash or not 0 < len(high) <= 8 or not 0 < len(low) <= 8:
        return None
    try:
        return (int(high, 16) << 32) | int(low, 16)
    except ValueError:
        return None


class PositionUnknown(Exception):
    """The store of written positions could not answer: the read goes to the primary."""


class WrittenPositions(Protocol):
    """The last position each person wrote at, while the replica may not have it yet."""

    async def get(self, person_id: int) -> int | None: ...

    async def put(self, person_id: int, position: int) -> None: ...

    def replayed(self, person_id: int, position: int) -> None:
        """The replica has replayed ``position``: what is kept for the person up to it
        may go."""

    async def close(self) -> None: ...


class MemoryPositions:
    """In this process: requests a client sends to another process are covered by the
    header it echoes."""

    def __init__(self) -> None:
        self._positions: dict[int, int] = {}

    async def get(self, person_id: int) -> int | None:
        return self._positions.get(person_id)

    async def put(self, person_id: int, position: int) -> None:
        if position > self._positions.get(person_id, -1):
            self._positions[person_id] = position

    def replayed(self, person_id: int, position: int) -> None:
        if self._positions.get(person_id, position + 1) <= position:
            del self._positions[person_id]

    async def close(self) -> None:
        self._positions.clear()


#: Keep the larger of the stored and the new position (fixed-width hex compares as
#: the numbers do), for ``ARGV[2]`` milliseconds.
_PUT_MAX = """
local current = redis.call('GET', KEYS[1])
if not current or current < ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
"""


class RedisPositions:
    """In Redis, seen by every process: one round trip per mutation and per query. An
    entry lapses after ``keep_seconds`` (a replica that far behind is a lost one)."""

    def __init__(self, url: str, prefix: str, keep_seconds: float = 300.0) -> None:
        from redis.asyncio import Redis

        self._client: Any = Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._prefix = f"{prefix}spm:written:"
        self._keep_ms = int(keep_seconds * 1000)
        self._put = self._client.register_script(_PUT_MAX)

    async def get(self, person_id: int) -> int | None:
        try:
            value = await self._client.get(f"{self._prefix}{person_id}")
        except Exception as error:  # Redis down: no telling what the person wrote
            raise PositionUnknown(str(error)) from error
        return None if value is None else int(value, 16)

    async def put(self, person_id: int, position: int) -> None:
        try:
            await self._put(keys=[f"{self._prefix}{person_id}"],
                            args=[f"{position:016X}", self._keep_ms])
        except Exception:  # the write stands; echoing the header still reads it back
            log.warning("could not keep person %s's write position in Redis", person_id,
                        exc_info=True)

    def replayed(self, person_id: int, position: int) -> None:
        """Left to lapse: deleting would cost a round trip and race a newer write."""

    async def close(self) -> None:
        await self._client.aclose()


class ReadRouting:
    """Which database a query reads: the replica, or the primary when the replica is
    behind the reader's own writes or cannot be reached."""

    def __init__(self, replica: AsyncEngine, written: WrittenPositions,
                 retry_seconds: float = 5.0, max_lag_seconds: float = 0.0,
                 lag_check_seconds: float = LAG_CHECK_SECONDS) -> None:
        self.replica = replica
        self.sessions = create_session_factory(replica)
        self.written = written
        self.retry_seconds = retry_seconds
        self.max_lag_seconds = max_lag_seconds
        self.lag_check_seconds = lag_check_seconds
        #: The furthest position the replica was seen to have replayed (it only moves on).
        self.replayed = 0
        #: Seconds the replica was behind when last asked, and when that was.
        self.lag = 0.0
        self._lag_asked = -float("inf")
        self._down_until = 0.0

    def lagging(self) -> str | None:
        """Why the replica is not read for being too far behind, or None."""
        if self.max_lag_seconds and self.lag > self.max_lag_seconds:
            return (f"{self.lag:.1f} s behind the primary (more than "
                    f"database_replica_max_lag_seconds = {self.max_lag_seconds:g})")
        return None

    async def measure_lag(self, session: AsyncSession) -> float:
        """Ask the replica on ``session`` how far behind it is (kept in ``lag``)."""
        self.lag = max(0.0, float(await session.scalar(_LAG) or 0.0))
        self._lag_asked = time.monotonic()
        REPLICA_LAG_SECONDS.set(self.lag)
        return self.lag

    async def problem(self) -> str | None:
        """Why reads do not go to the replica now (unreachable, or too far behind), for
        readiness; asks the replica afresh."""
        session = self.sessions()
        try:
            await session.connection(execution_options=_AUTOCOMMIT)
            await self.measure_lag(session)
        except UNREACHABLE as error:
            return f"unreachable, reading the primary: {error.__class__.__name__}"
        finally:
            await _close_quietly(session)
        return self.lagging()

    async def wrote(self, session: AsyncSession, person_id: int) -> str:
        """After ``person_id``'s commit on ``session`` (the primary's): where the WAL
        is now, kept for the person, as the header spells it."""
        position = str(await session.scalar(_CURRENT))
        parsed = parse_lsn(position)
        if parsed is not None:
            await self.written.put(person_id, parsed)
        return position

    async def session_for(self, person_id: int, echoed: str | None, *,
                          autocommit: bool = False) -> AsyncSession | None:
        """A session on the replica for ``person_id``'s query, connected (in autocommit
        if asked), or None: read the primary."""
        now = time.monotonic()
        if now < self._down_until:
            DB_READS.labels("primary", "unreachable").inc()
            return None
        wanted = parse_lsn(echoed)
        try:
            remembered = await self.written.get(person_id)
        except PositionUnknown:
            DB_READS.labels("primary", "unknown").inc()
            return None
        if remembered is not None and (wanted is None or remembered > wanted):
            wanted = remembered
        session = self.sessions()
        try:
            await session.connection(execution_options=_AUTOCOMMIT if autocommit else None)
            if self.max_lag_seconds and now - self._lag_asked >= self.lag_check_seconds:
                await self.measure_lag(session)
            if self.lagging() is not None:
                await session.close()
                DB_READS.labels("primary", "lagging").inc()
                return None
            if wanted is not None and wanted > self.replayed:
                # Statements after this one see at least this much: replay only moves on.
                self.replayed = max(self.replayed,
                                    parse_lsn(await session.scalar(_REPLAYED)) or 0)
                if wanted > self.replayed:
                    await session.close()
                    DB_READS.labels("primary", "behind").inc()
                    return None
        except UNREACHABLE as error:
            await _close_quietly(session)
            self._down_until = time.monotonic() + self.retry_seconds
            log.warning("the read replica cannot be reached (%s); reading the primary for "
                        "%.0f s", error.__class__.__name__, self.retry_seconds)
            DB_READS.labels("primary", "unreachable").inc()
            return None
        if remembered is not None and remembered <= self.replayed:
            self.written.replayed(person_id, remembered)
        DB_READS.labels("replica", "caught_up" if wanted is not None else "no_write").inc()
        return session

    async def close(self) -> None:
        await self.written.close()


async def _close_quietly(session: AsyncSession) -> None:
    try:
        await session.close()
    except Exception:  # its connection is gone; nothing is left to release
        log.debug("closing a session on the unreachable replica failed", exc_info=True)
