"""Checks ``spm-api serve`` makes before it starts: a database that is reachable and
migrated, and an event bus that answers. A failure is one ``Unavailable`` line instead
of a traceback from inside the server's start-up."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import text

from spm_api.db import migrations
from spm_api.db.engine import create_engine
from spm_api.failures import Unavailable, database_failure, redis_failure, shown_url
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings


async def check_database(url: str, *, pgbouncer: bool = False) -> None:
    """The database at ``url`` answers and is migrated to the newest revision."""
    head = ScriptDirectory.from_config(migrations.alembic_config(url)).get_current_head()
    engine = create_engine(url, pgbouncer=pgbouncer)
    try:
        async with engine.connect() as connection:
            current = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception as error:  # told in one line when it is a database failure
        failure = database_failure(error, url)
        if failure is None:
            raise
        raise failure from None
    finally:
        await engine.dispose()
    if current != head:
        raise Unavailable(
            f"the database at {shown_url(url)} is at migration {current}, not {head}; "
            "run `spm-api db upgrade`")


async def check_event_bus(settings: Settings) -> None:
    """The event bus chosen by ``SPM_EVENT_BUS`` connects."""
    url = settings.event_bus_url()
    bus = EventBus(url)
    try:
        await bus.connect()
    except Exception as error:  # told in one line: the server could not publish events
        if url.startswith("redis"):
            raise redis_failure(error, url) from None
        failure = database_failure(error, url)
        raise (failure or Unavailable(f"the event bus at {shown_url(url)} failed: {error}")
               ) from None
    finally:
        await bus.disconnect()
