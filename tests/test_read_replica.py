"""Queries read a streaming replica started by the test (``pg_basebackup`` of the local
primary); mutations read the primary, and a person who just wrote reads it back.

Proof that a query was answered by the replica: with the replica's replay paused, a
person who did not write sees the data as it was before the write, while the writer
(and anyone echoing the writer's ``SPM-LSN``) sees it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from spm_api.app import close_routing, create_app
from spm_api.db.engine import create_engine
from spm_api.db.replica import parse_lsn
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from tests.conftest import REDIS_CHANNEL_PREFIX, REDIS_URL, require_redis
from tests.servers import ReplicaCluster, allow_replication, cannot_run_as_postgres, free_port
from tests.servers import require as require_server
from tests.support import CREATE_SERVICE, Org, empty_tables, make_org
from tests.ws import running, subscriber

pytestmark = pytest.mark.postgres

CREATE_WITH_HISTORY = """
mutation($input: CreateServiceInput!) {
  createService(input: $input) { service { stageChanges { toStage } } errors { code } }
}"""
NAMES = "query { services(first: 50) { edges { node { name } } } }"
#: Not answered by the planned path: the executor alone reads it.
NAMES_AND_VIEWER = "query { viewer { name } services(first: 50) { edges { node { name } } } }"


def reads(database: str, reason: str) -> float:
    return REGISTRY.get_sample_value("spm_db_reads_total",
                                     {"database": database, "reason": reason}) or 0.0


@pytest.fixture(scope="module")
def replica(postgres_url: str) -> Iterator[ReplicaCluster]:
    """A hot standby of the primary (with the suite's database in it), removed after."""
    require_server(cannot_run_as_postgres())
    require_server(allow_replication())
    cluster = ReplicaCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
async def primary(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url)
    yield engine
    async with engine.begin() as connection:
        await empty_tables(connection)
    await engine.dispose()


@pytest.fixture
async def replica_admin(replica: ReplicaCluster) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(replica.admin_url, timeout=10)
    yield connection
    await connection.execute("SELECT pg_wal_replay_resume()")
    await connection.close()


def replica_settings(postgres_url: str, replica_url: str, **extra: Any) -> Settings:
    return Settings(database_url=postgres_url, database_replica_url=replica_url, plugins="",
                    event_bus="memory", **{"planned_reads": "check", **extra})


@asynccontextmanager
async def client(settings: Settings, engine: AsyncEngine, plugins: PluginHost,
                 counted: list[str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """An API process of its own (its own replica engine and written positions);
    ``counted`` gets ``primary`` or ``replica`` for each statement it runs."""
    bus = EventBus("memory://")
    app: Starlette = create_app(settings, engine=engine, plugins=plugins, bus=bus)
    listeners: list[tuple[Any, Any]] = []
    if counted is not None:
        routing = app.state.routing
        for name, on in (("primary", engine), *((("replica", routing.replica),)
                                                 if routing else ())):
            def count(*_: Any, name: str = name) -> None:
                counted.append(name)
            event.listen(on.sync_engine, "before_cursor_execute", count)
            listeners.append((on.sync_engine, count))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as http:
            yield http
    finally:
        for target, listener in listeners:
            event.remove(target, "before_cursor_execute", listener)
        if app.state.routing is not None:
            await close_routing(app.state.routing)
        await bus.disconnect()


async def post(http: httpx.AsyncClient, query: str, token: str,
               variables: dict[str, Any] | None = None, lsn: str | None = None
               ) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if lsn is not None:
        headers["SPM-LSN"] = lsn
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}},
                               headers=headers)
    assert response.status_code == 200, response.text
    assert not response.json().get("errors"), response.json()["errors"]
    return response


async def names(http: httpx.AsyncClient, token: str, lsn: str | None = None,
                query: str = NAMES) -> set[str]:
    body = (await post(http, query, token, lsn=lsn)).json()
    return {edge["node"]["name"] for edge in body["data"]["services"]["edges"]}


async def create(http: httpx.AsyncClient, org: Org, name: str) -> str:
    """Creates a service; the position the response carries."""
    response = await post(http, CREATE_SERVICE, org.token(Role.CONTRIBUTOR), {"input": {
        "name": name, "investmentCategory": "RUN", "objectives": "Resolve incidents"}})
    assert response.json()["data"]["createService"]["errors"] == []
    lsn = response.headers.get("SPM-LSN")
    assert parse_lsn(lsn) is not None, response.headers
    return str(lsn)


async def replayed_to(admin: asyncpg.Connection, lsn: str) -> None:
    for _ in range(200):
        if await admin.fetchval("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", lsn):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the replica did not replay {lsn} within 10 s")


async def pause(admin: asyncpg.Connection) -> None:
    await admin.execute("SELECT pg_wal_replay_pause()")
    for _ in range(200):
        if await admin.fetchval("SELECT pg_get_wal_replay_pause_state()") == "paused":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the replica's replay did not pause")


@pytest.mark.parametrize("planned_reads", ["check", "off"])
async def test_queries_read_the_replica_and_writers_read_their_own_writes(
        planned_reads: str, replica: ReplicaCluster, replica_admin: asyncpg.Connection,
        primary: AsyncEngine, postgres_url: str, plugins: PluginHost) -> None:
    org = await make_org(primary, "acme")
    writer, bystander = org.token(Role.CONTRIBUTOR), org.token(Role.VIEWER)
    database = postgres_url.rsplit("/", 1)[1]
    settings = replica_settings(postgres_url, replica.url(database), planned_reads=planned_reads)
    async with client(settings, primary, plugins) as http, \
            client(settings, primary, plugins) as other_process:
        await replayed_to(replica_admin, await create(http, org, "Before"))
        await pause(replica_admin)

        lsn = await create(http, org, "After")

        behind = reads("primary", "behind")
        assert await names(http, writer) == {"Before", "After"}  # its own write
        assert await names(http, writer, query=NAMES_AND_VIEWER) == {"Before", "After"}
        assert reads("primary", "behind") >= behind + 2
        from_replica = reads("replica", "no_write")
        assert await names(http, bystander) == {"Before"}  # the paused replica's
        assert await names(http, bystander, query=NAMES_AND_VIEWER) == {"Before"}
        assert reads("replica", "no_write") >= from_replica + 2
        # Another process knows nothing of the write: the echoed header says it.
        assert await names(other_process, writer) == {"Before"}
        assert await names(other_process, writer, lsn=lsn) == {"Before", "After"}
        assert await names(other_process, bystander, lsn=lsn) == {"Before", "After"}

        await replica_admin.execute("SELECT pg_wal_replay_resume()")
        await replayed_to(replica_admin, lsn)
        caught_up = reads("replica", "caught_up")
        assert await names(http, bystander) == {"Before", "After"}
        assert await names(http, writer) == {"Before", "After"}
        assert reads("replica", "caught_up") == caught_up + 1  # the writer's, once


@pytest.mark.parametrize("planned_reads", ["on", "off"])
async def test_a_query_runs_as_many_statements_with_a_replica_as_without(
        planned_reads: Literal["on", "off"], replica: ReplicaCluster,
        replica_admin: asyncpg.Connection, primary: AsyncEngine, postgres_url: str,
        plugins: PluginHost) -> None:
    org = await make_org(primary, "acme")
    database = postgres_url.rsplit("/", 1)[1]
    alone = Settings(database_url=postgres_url, plugins="", event_bus="memory",
                     planned_reads=planned_reads)
    # How far behind the replica is gets asked once a second besides: not counted here.
    counted: list[str] = []
    async with client(alone, primary, plugins, counted) as http:
        response = await post(http, CREATE_SERVICE, org.token(Role.CONTRIBUTOR), {"input": {
            "name": "Service Desk", "investmentCategory": "RUN", "objectives": "Desk"}})
        assert "SPM-LSN" not in response.headers  # nothing asked of the primary either
        counted.clear()
        assert await names(http, org.token(Role.VIEWER)) == {"Service Desk"}
        without = list(counted)
    settings = replica_settings(postgres_url, replica.url(database), planned_reads=planned_reads,
                                database_replica_max_lag_seconds=0)
    async with client(settings, primary, plugins, counted) as http:
        counted.clear()
        assert await names(http, org.token(Role.VIEWER)) == {"Service Desk"}
        bystander = list(counted)
        lsn = await create(http, org, "Payroll")
        await replayed_to(replica_admin, lsn)
        counted.clear()
        assert await names(http, org.token(Role.CONTRIBUTOR)) == {"Service Desk", "Payroll"}
        writer = list(counted)
        counted.clear()
        assert await names(http, org.token(Role.CONTRIBUTOR)) == {"Service Desk", "Payroll"}
        writer_again = list(counted)
    assert set(without) == {"primary"}
    # Authentication on the primary, the rest on the replica: no statement more.
    assert len(bystander) == len(without) and "replica" in bystander
    assert bystander.count("primary") == 1
    # The writer's first query asks the replica how far it is, once.
    assert writer.count("replica") == bystander.count("replica") + 1
    assert writer_again == bystander


async def test_with_positions_in_redis_every_process_reads_a_writers_own_write(
        replica: ReplicaCluster, replica_admin: asyncpg.Connection, primary: AsyncEngine,
        postgres_url: str, plugins: PluginHost) -> None:
    require_redis()
    org = await make_org(primary, "acme")
    database = postgres_url.rsplit("/", 1)[1]
    settings = replica_settings(postgres_url, replica.url(database), read_your_writes="redis",
                                redis_url=REDIS_URL, redis_channel_prefix=REDIS_CHANNEL_PREFIX)
    async with client(settings, primary, plugins) as one, \
            client(settings, primary, plugins) as other:
        await replayed_to(replica_admin, await create(one, org, "Before"))
        await pause(replica_admin)
        await create(one, org, "After")
        assert await names(other, org.token(Role.CONTRIBUTOR)) == {"Before", "After"}
        assert await names(other, org.token(Role.VIEWER)) == {"Before"}


async def test_mutations_and_their_payloads_read_the_primary(
        replica: ReplicaCluster, replica_admin: asyncpg.Connection, primary: AsyncEngine,
        postgres_url: str, plugins: PluginHost) -> None:
    org = await make_org(primary, "acme")
    database = postgres_url.rsplit("/", 1)[1]
    settings = replica_settings(postgres_url, replica.url(database))
    async with client(settings, primary, plugins) as http:
        await pause(replica_admin)
        response = await post(http, CREATE_WITH_HISTORY, org.token(Role.CONTRIBUTOR),
                              {"input": {"name": "Written", "investmentCategory": "RUN",
                                         "objectives": "Resolve incidents"}})
        payload = response.json()["data"]["createService"]
        # Its stage history is read back after the commit: the replica has none of it.
        assert payload["service"]["stageChanges"] == [{"toStage": "DEFINITION"}]


async def test_a_replica_further_behind_than_the_limit_is_not_read_until_it_catches_up(
        replica: ReplicaCluster, replica_admin: asyncpg.Connection, primary: AsyncEngine,
        postgres_url: str, plugins: PluginHost) -> None:
    org = await make_org(primary, "acme")
    bystander = org.token(Role.VIEWER)
    database = postgres_url.rsplit("/", 1)[1]
    settings = replica_settings(postgres_url, replica.url(database),
                                database_replica_max_lag_seconds=0.3)
    async with client(settings, primary, plugins) as http:
        http_app: Any = http._transport.app  # type: ignore[attr-defined]
        http_app.state.routing.lag_check_seconds = 0  # ask on every read, not once a second
        await replayed_to(replica_admin, await create(http, org, "Before"))
        ready = (await http.get("/readyz")).json()
        assert ready["checks"]["replica"] == {"ok": True}
        await pause(replica_admin)
        lsn = await create(http, org, "After")
        await asyncio.sleep(0.6)  # the write waits unreplayed past the limit

        lagging = reads("primary", "lagging")
        assert await names(http, bystander) == {"Before", "After"}  # the primary's
        assert reads("primary", "lagging") == lagging + 1
        assert (REGISTRY.get_sample_value("spm_db_replica_lag_seconds") or 0) > 0.3
        response = await http.get("/readyz")
        assert response.status_code == 200  # reads go to the primary meanwhile
        told = response.json()["checks"]["replica"]
        assert told["ok"] is False and told["blocking"] is False
        assert "behind the primary" in told["reason"]

        await replica_admin.execute("SELECT pg_wal_replay_resume()")
        await replayed_to(replica_admin, lsn)
        from_replica = reads("replica", "no_write")
        assert await names(http, bystander) == {"Before", "After"}
        assert reads("replica", "no_write") == from_replica + 1
        assert (await http.get("/readyz")).json()["checks"]["replica"] == {"ok": True}


async def test_an_unreachable_replica_is_told_by_readiness_without_blocking(
        primary: AsyncEngine, postgres_url: str, plugins: PluginHost) -> None:
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/spm"
    async with client(replica_settings(postgres_url, nowhere), primary, plugins) as http:
        response = await http.get("/readyz")
    assert response.status_code == 200, response.text
    told = response.json()["checks"]["replica"]
    assert told["ok"] is False and told["blocking"] is False
    assert told["reason"].startswith("unreachable, reading the primary")


async def test_an_unreachable_replica_falls_back_to_the_primary(
        primary: AsyncEngine, postgres_url: str, plugins: PluginHost,
        caplog: pytest.LogCaptureFixture) -> None:
    org = await make_org(primary, "acme")
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/spm"
    settings = replica_settings(postgres_url, nowhere, database_replica_retry_seconds=60)
    async with client(settings, primary, plugins) as http:
        await create(http, org, "Service Desk")
        unreachable = reads("primary", "unreachable")
        with caplog.at_level(logging.WARNING, "spm_api.replica"):
            assert await names(http, org.token(Role.VIEWER)) == {"Service Desk"}
            assert await names(http, org.token(Role.VIEWER)) == {"Service Desk"}
        assert reads("primary", "unreachable") == unreachable + 2
        # Told once, then not tried again within the retry window.
        assert [record.message for record in caplog.records
                if record.name == "spm_api.replica"] == [
            "the read replica cannot be reached (ConnectionRefusedError); reading the "
            "primary for 60 s"]


async def test_a_replica_lost_while_in_use_falls_back_to_the_primary(
        replica: ReplicaCluster, primary: AsyncEngine, postgres_url: str,
        plugins: PluginHost) -> None:
    org = await make_org(primary, "acme")
    database = postgres_url.rsplit("/", 1)[1]
    settings = replica_settings(postgres_url, replica.url(database),
                                database_ping_idle_seconds=0)
    async with client(settings, primary, plugins) as http:
        await create(http, org, "Service Desk")
        viewer = org.token(Role.VIEWER)
        from_replica = reads("replica", "no_write")
        assert await names(http, viewer) == {"Service Desk"}
        assert reads("replica", "no_write") == from_replica + 1
        replica.stop()
        try:
            unreachable = reads("primary", "unreachable")
            assert await names(http, viewer) == {"Service Desk"}
            assert reads("primary", "unreachable") == unreachable + 1
        finally:
            replica.start_again()


async def test_a_mutation_over_a_websocket_is_read_back_over_http(
        replica: ReplicaCluster, replica_admin: asyncpg.Connection, primary: AsyncEngine,
        postgres_url: str, plugins: PluginHost) -> None:
    org = await make_org(primary, "acme")
    database = postgres_url.rsplit("/", 1)[1]
    bus = EventBus("memory://")
    app = create_app(replica_settings(postgres_url, replica.url(database)), engine=primary,
                     plugins=plugins, bus=bus)
    writer = org.token(Role.CONTRIBUTOR)
    try:
        async with running(app) as address, \
                httpx.AsyncClient(base_url=f"http://{address}") as http:
            await pause(replica_admin)
            async with subscriber(address, writer) as socket:
                await socket.subscribe(CREATE_SERVICE, {"input": {
                    "name": "Over the socket", "investmentCategory": "RUN",
                    "objectives": "Resolve incidents"}})
                created = await socket.next_data()
                assert created["createService"]["errors"] == []
            assert await names(http, writer) == {"Over the socket"}
            assert await names(http, org.token(Role.VIEWER)) == set()
    finally:
        await close_routing(app.state.routing)
        await bus.disconnect()
