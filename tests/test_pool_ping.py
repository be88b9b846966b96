"""Pooled PostgreSQL connections: pinged only after idling, replaced when dropped."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from sqlalchemy import event, text

from spm_api.db.engine import create_engine
from tests.conftest import POSTGRES_ADMIN_URL

pytestmark = pytest.mark.postgres


async def _admin(sql: str, *args: object) -> list[asyncpg.Record]:
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        found: list[asyncpg.Record] = await admin.fetch(sql, *args)
        return found
    finally:
        await admin.close()


async def test_a_connection_the_server_dropped_is_replaced_after_idling(
        postgres_url: str) -> None:
    name = f"spm_ping_{uuid.uuid4().hex[:8]}"  # its own database: no other test's backends
    await _admin(f'CREATE DATABASE "{name}"')
    engine = create_engine(f"{postgres_url.rsplit('/', 1)[0]}/{name}", ping_idle_seconds=0.2)
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
        dropped = await _admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = $1", name)
        assert len(dropped) == 1
        await asyncio.sleep(0.4)  # idle past the threshold: pinged, found dead, replaced
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 2")) == 2
    finally:
        await engine.dispose()
        await _admin(f'DROP DATABASE "{name}" WITH (FORCE)')


async def test_a_connection_back_in_use_at_once_is_not_pinged(postgres_url: str) -> None:
    engine = create_engine(postgres_url, ping_idle_seconds=30)
    sent: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda *args: sent.append(args[2]))
    try:
        for _ in range(3):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        # SQLAlchemy's own pre-ping would add its ping to each checkout.
        assert sent == ["SELECT 1"] * 3
    finally:
        await engine.dispose()
