"""Behind PgBouncer in transaction mode (``SPM_DATABASE_PGBOUNCER``): the core tests run
through one as well (those marked ``pgbouncer``, ``tests/conftest.py``); here, what the
setting itself refuses."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from spm_api.db import migrations
from spm_api.settings import Settings, get_settings
from tests.conftest import _admin
from tests.servers import PgBouncer, pgbouncer_missing
from tests.servers import require as require_server

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


@pytest.fixture
def bounced_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SPM_DATABASE_URL", BOUNCER)
    monkeypatch.setenv("SPM_DATABASE_PGBOUNCER", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.usefixtures("bounced_settings")
def test_migrations_take_the_pgbouncer_setting_for_its_own_url_only() -> None:
    assert migrations.alembic_config().attributes["pgbouncer"] is True
    direct = "postgresql+asyncpg://spm@127.0.0.1:5432/spm"
    assert migrations.alembic_config(direct).attributes["pgbouncer"] is False
    assert migrations.alembic_config(direct, pgbouncer=True).attributes["pgbouncer"] is True


@pytest.mark.postgres
def test_db_upgrade_migrates_a_fresh_database_through_pgbouncer(postgres_url: str) -> None:
    require_server(pgbouncer_missing())
    name = f"spm_bounced_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    bouncer = PgBouncer(name)
    bouncer.start()
    try:
        environment = {**os.environ, "SPM_DATABASE_URL": bouncer.url(),
                       "SPM_DATABASE_PGBOUNCER": "true"}
        for _ in range(2):  # the second run finds it at head
            result = subprocess.run([sys.executable, "-m", "spm_api.cli", "db", "upgrade"],
                                    env=environment, capture_output=True, text=True,
                                    timeout=180, check=False)
            assert result.returncode == 0, result.stderr
            assert result.stdout.strip() == "database at head"
    finally:
        bouncer.stop()
        _admin(f'DROP DATABASE "{name}" WITH (FORCE)')
