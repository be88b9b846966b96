"""Migration 0004 turns ``service.estimated_cost`` from NUMERIC into exact scaled
integers; existing amounts must survive the upgrade and the downgrade unchanged."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text

from spm_api.db import migrations
from spm_api.db.engine import create_engine, create_session_factory
from spm_api.models import Service
from tests.conftest import POSTGRES_ADMIN_URL, _admin, require_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own: this test migrates it step by step."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'money.db'}"
        return
    require_postgres()
    name = f"spm_migration_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _execute(url: str, *statements: str) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            results = [await connection.execute(text(sql)) for sql in statements]
            return [result.scalar() if result.returns_rows else None for result in results]
    finally:
        await engine.dispose()


async def _estimated_cost(url: str) -> Decimal | None:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            return await session.scalar(select(Service.estimated_cost))
    finally:
        await engine.dispose()


def test_estimated_costs_survive_the_move_to_exact_integers(fresh_url: str) -> None:
    migrations.upgrade(fresh_url, "0003")
    asyncio.run(_execute(
        fresh_url,
        "INSERT INTO organisation (id, name, slug, currency, fiscal_year_start_month, "
        "created_at) VALUES (1, 'Acme', 'acme', 'EUR', 1, CURRENT_TIMESTAMP)",
        "INSERT INTO person (id, organisation_id, name, email, created_at) "
        "VALUES (1, 1, 'Ann', 'ann@acme.example', CURRENT_TIMESTAMP)",
        "INSERT INTO service (id, organisation_id, name, summary, objectives, owner_id, "
        "investment_category, stage, estimated_cost, version, created_at, updated_at) "
        "VALUES (1, 1, 'Payroll', '', '', 1, 'RUN', 'DEFINITION', 120000.55, 1, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))

    migrations.upgrade(fresh_url, "0004")
    assert asyncio.run(_estimated_cost(fresh_url)) == Decimal("120000.55")
    [stored] = asyncio.run(_execute(fresh_url, "SELECT estimated_cost FROM service"))
    assert stored == 1_200_005_500

    migrations.downgrade(fresh_url, "0003")
    [restored] = asyncio.run(_execute(fresh_url, "SELECT estimated_cost FROM service"))
    assert Decimal(str(restored)) == Decimal("120000.55")
