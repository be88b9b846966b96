"""Fixtures: every storage test runs on SQLite and again on a fresh PostgreSQL database.

PostgreSQL and Redis are required in CI (``CI`` set): an unreachable server fails the
run. Elsewhere the tests needing them are skipped with the reason.

The suite may run in several processes at once (``pytest -n 2``, pytest-xdist) and
beside other users of the same servers, so nothing it uses is shared: each process
has its own PostgreSQL database (named after its worker id), its own SQLite file and
its own prefix before every Redis channel (pub/sub channels span the whole Redis
server, whatever the database number).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

import spm_api.app
from spm_api.app import create_app
from spm_api.db import migrations
from spm_api.db.engine import create_engine
from spm_api.graphql.schema import build_schema
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings, get_settings
from tests.servers import PgBouncer, pgbouncer_missing
from tests.servers import require as require_server
from tests.support import GraphQLClient, Org, Portfolio, empty_tables, make_org, serve_api

# Every query the suite sends, through any app or server it starts, is answered by the
# planned read path and by the executor, which must agree (PLAN_MISMATCH otherwise).
os.environ.setdefault("SPM_PLANNED_READS", "check")

POSTGRES_ADMIN_URL = os.environ.get(
    "SPM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("SPM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
#: ``gw0``, ``gw1``… under pytest-xdist, ``main`` when the suite runs in one process.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
#: Names of what this process creates on the shared servers: unique to the worker and
#: the run, so two runs at once (two checkouts, two workers) never meet.
RUN_NAME = f"spm_test_{WORKER}_{uuid.uuid4().hex[:8]}"
#: Before every Redis channel this process's buses use (``SPM_REDIS_CHANNEL_PREFIX``).
REDIS_CHANNEL_PREFIX = f"{RUN_NAME}:"


def _postgres_unavailable_reason(url: str) -> str | None:
    try:
        import asyncpg
    except ImportError:
        return "asyncpg is not installed (pip install -e '.[postgres]')"

    async def probe() -> None:
        connection = await asyncpg.connect(url, timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except Exception as error:  # any failure to connect means: no server to test against
        return f"no PostgreSQL server answers at {url}: {error}"
    return None


def require_postgres(url: str = POSTGRES_ADMIN_URL) -> None:
    """Skip without a server, except in CI, where a missing server fails the run."""
    reason = _postgres_unavailable_reason(url)
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def require_redis() -> None:
    """Skip without a Redis server, except in CI, where a missing server fails the run."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as error:  # any failure to connect means: no server to test against
        reason = f"no Redis server answers at {REDIS_URL}: {error}"
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI: {reason}", pytrace=False)
        pytest.skip(reason)


def _admin(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=10)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped at the end."""
    require_postgres()
    name = RUN_NAME
    _admin(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    try:
        migrations.upgrade(url)
        yield url
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "spm.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrations.upgrade(url)
    return url


#: The URLs that lead to the PgBouncer the session started (``pgbouncer_url``), and the
#: database's own URL behind each: LISTEN/NOTIFY needs a connection of its own.
PGBOUNCER_URLS: dict[str, str] = {}
BACKENDS: list[object] = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
PGBOUNCER: list[object] = [pytest.param("pgbouncer", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pgbouncer_url(postgres_url: str) -> Iterator[str]:
    """The session's PostgreSQL database through a PgBouncer in transaction mode."""
    require_server(pgbouncer_missing())
    bouncer = PgBouncer(postgres_url.rsplit("/", 1)[1])
    bouncer.start()
    PGBOUNCER_URLS[bouncer.url()] = postgres_url
    try:
        yield bouncer.url()
    finally:
        del PGBOUNCER_URLS[bouncer.url()]
        bouncer.stop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each test using the database runs once per backend; those marked ``pgbouncer``
    also through PgBouncer in transaction mode: a representative core, not the whole
    suite a third time."""
    if "database_url" in metafunc.fixturenames:
        marked = metafunc.definition.get_closest_marker("pgbouncer") is not None
        metafunc.parametrize("database_url", BACKENDS + (PGBOUNCER if marked else []),
                             indirect=True, scope="session")


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated database; each test using it runs once per backend."""
    fixture = {"sqlite": "sqlite_url", "postgres": "postgres_url",
               "pgbouncer": "pgbouncer_url"}[request.param]
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pgbouncer=database_url in PGBOUNCER_URLS)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The engine, with every table emptied after the test."""
    yield engine
    async with engine.begin() as connection:
        await empty_tables(connection)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Built-in plugins only, whatever happens to be installed, so outcomes are known;
    an in-process event bus (the subscription tests choose theirs), except through
    PgBouncer: there LISTEN/NOTIFY on the database's own URL, as a deployment behind
    PgBouncer would run it; every query the planned read path answers is also run by
    the executor, and must agree."""
    direct = PGBOUNCER_URLS.get(database_url)
    return Settings(database_url=database_url, debug=False, plugins="",
                    event_bus="memory" if direct is None else direct,
                    planned_reads="check", database_pgbouncer=direct is not None)


@pytest.fixture(scope="session", autouse=True)
def one_schema_per_configuration() -> Iterator[None]:
    """Building the GraphQL schema takes about a tenth of a second, most of a small
    test's time, and depends on the settings only: each test process builds it once per
    configuration (all settings alike) rather than once per app. The schema test builds
    its own."""
    built: dict[str, strawberry.Schema] = {}

    def build_once(settings: Settings | None = None) -> strawberry.Schema:
        key = (settings or get_settings()).model_dump_json()
        if key not in built:
            built[key] = build_schema(settings)
        return built[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spm_api.app, "build_schema", build_once)
        yield


@pytest.fixture(scope="session")
def plugins() -> Iterator[PluginHost]:
    """The built-in plugins, as a server with ``SPM_PLUGINS=""`` loads them."""
    host = PluginHost.load(frozenset(), timeout=2.0)
    yield host
    host.close()


@pytest.fixture
async def api(db: AsyncEngine, settings: Settings, plugins: PluginHost
              ) -> AsyncIterator[GraphQLClient]:
    bus = EventBus("memory://")
    async with serve_api(create_app(settings, engine=db, plugins=plugins, bus=bus)) as client:
        yield client
    await bus.disconnect()


@pytest.fixture
async def org(db: AsyncEngine) -> Org:
    return await make_org(db, "acme")


@pytest.fixture
async def other_org(db: AsyncEngine) -> Org:
    return await make_org(db, "globex")


@pytest.fixture
def portfolio(api: GraphQLClient, org: Org) -> Portfolio:
    return Portfolio(api, org)
