"""The benchmark's own PostgreSQL database: created, migrated, seeded, analysed, dropped.

Both servers read this one database, so they answer from the same rows and the same
statistics.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from spm_api.db import migrations
from spm_api.db.engine import create_engine, create_session_factory
from spm_api.demo import seed_demo
from spm_api.plugins.host import PluginHost

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
MANAGER_EMAIL = "portfolio@demo.example"


@dataclass(frozen=True)
class BenchDatabase:
    name: str
    organisation_id: int
    token: str
    detail_service_id: int
    postgres_version: str

    @property
    def plain_url(self) -> str:
        """libpq-style URL, for asyncpg and node-postgres."""
        return f"postgresql://postgres@127.0.0.1:5432/{self.name}"

    @property
    def api_url(self) -> str:
        """SQLAlchemy URL, for ``spm-api serve``."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.name}"


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def create(services: int) -> BenchDatabase:
    """A fresh, uniquely named database with the demo organisation of ``services``."""
    name = f"spm_vs_pgl_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        migrations.upgrade(url)
        demo = asyncio.run(_seed(url, services))
        token = next(p["token"] for p in demo["people"] if p["email"] == MANAGER_EMAIL)
        organisation_id, detail_id, version = asyncio.run(_analyse(name))
    except BaseException:
        drop(name)
        raise
    return BenchDatabase(name, organisation_id, token, detail_id, version)


async def _seed(url: str, services: int) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            return await seed_demo(session, PluginHost.load(frozenset()), services=services)
    finally:
        await engine.dispose()


async def _analyse(name: str) -> tuple[int, int, str]:
    """ANALYZE, then the demo organisation and the service the detail page shows
    (the one with the most stage changes, so every nested list is filled)."""
    connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}")
    try:
        await connection.execute("ANALYZE")
        organisation_id = await connection.fetchval(
            "SELECT organisation_id FROM person WHERE email = $1", MANAGER_EMAIL)
        detail_id = await connection.fetchval(
            """SELECT s.id FROM service s JOIN stage_change c ON c.service_id = s.id
               WHERE s.organisation_id = $1 GROUP BY s.id
               ORDER BY count(*) DESC, s.id LIMIT 1""", organisation_id)
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    return int(organisation_id), int(detail_id), str(version)


def drop(name: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
