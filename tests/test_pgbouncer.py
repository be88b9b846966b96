"""Behind PgBouncer in transaction mode (``SPM_DATABASE_PGBOUNCER``): the core tests run
through one as well (those marked ``pgbouncer``, ``tests/conftest.py``); here, what the
setting itself refuses."""

from __future__ import annotations

import pytest

from spm_api.settings import Settings

BOUNCER = "postgresql+asyncpg://spm@127.0.0.1:6432/spm"


def test_the_database_bus_is_refused_through_pgbouncer() -> None:
    settings = Settings(database_url=BOUNCER, database_pgbouncer=True)
    with pytest.raises(ValueError, match="LISTEN/NOTIFY does not pass a PgBouncer"):
        settings.event_bus_url()


def test_the_database_bus_on_its_own_url_or_redis_is_taken() -> None:
    direct = "postgresql+asyncpg://spm@127.0.0.1:5432/spm"
    assert Settings(database_url=BOUNCER, database_pgbouncer=True, event_bus=direct
                    ).event_bus_url() == "postgresql://spm@127.0.0.1:5432/spm"
    assert Settings(database_url=BOUNCER, database_pgbouncer=True, event_bus="redis",
                    redis_url="redis://127.0.0.1:6379/0").event_bus_url() == (
        "redis://127.0.0.1:6379/0")
