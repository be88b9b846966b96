"""The pool's queue in ``/metrics``: requests waiting for a connection while every one
is in use, and how long they waited; the pool's limits come from the settings."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from spm_api.db.engine import PoolLimits, create_engine, engine_from_settings
from spm_api.settings import Settings

pytestmark = pytest.mark.postgres


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_a_request_queued_behind_a_full_pool_is_counted_while_it_waits(
        postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool=PoolLimits(size=1, overflow=0, timeout=10))
    waits_before = sample("spm_db_pool_wait_seconds_count")
    try:
        async with engine.connect() as held:
            await held.execute(text("SELECT 1"))
            assert sample("spm_db_pool_connections_waiting") == 0

            async def queued() -> int:
                async with engine.connect() as connection:
                    return int(await connection.scalar(text("SELECT 2")))

            waiting = asyncio.create_task(queued())
            for _ in range(100):
                if sample("spm_db_pool_connections_waiting") == 1:
                    break
                await asyncio.sleep(0.02)
            assert sample("spm_db_pool_connections_waiting") == 1
            await asyncio.sleep(0.2)
            assert not waiting.done()
        assert await waiting == 2
        assert sample("spm_db_pool_connections_waiting") == 0
        assert sample("spm_db_pool_wait_seconds_count") == waits_before + 2
        assert (REGISTRY.get_sample_value("spm_db_pool_wait_seconds_bucket",
                                          {"le": "0.1"}) or 0) < sample(
            "spm_db_pool_wait_seconds_count"), "the queued request waited over 0.2 s"
    finally:
        await engine.dispose()


async def test_a_full_pool_refuses_after_the_configured_timeout(postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url, database_pool_size=1,
                        database_pool_max_overflow=0, database_pool_timeout=0.3)
    engine = engine_from_settings(settings)
    try:
        async with engine.connect():
            with pytest.raises(PoolTimeout):
                async with engine.connect():
                    pass
        assert sample("spm_db_pool_connections_waiting") == 0
    finally:
        await engine.dispose()


def test_pool_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="database_pool_size"):
        Settings(database_pool_size=0)
