"""Two API processes on one event bus: a subscriber connected to process A receives the
change made through process B — on PostgreSQL LISTEN/NOTIFY and on Redis pub/sub.

The processes are real ``spm-api serve`` servers on loopback ports, sharing a fresh
PostgreSQL database. Without PostgreSQL or Redis the test skips with the reason, except
in CI, where it fails.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.engine import create_engine
from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Portfolio, make_org
from tests.ws import free_port, subscriber

REDIS_URL = os.environ.get("SPM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SPM_API = Path(sys.executable).with_name("spm-api")

STAGE_CHANGED = "subscription { stageChanged { stageChange { toStage } service { name } } }"


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


@contextmanager
def api_process(database_url: str, bus: str) -> Iterator[str]:
    """``spm-api serve`` on a free port with the given bus; yields its address."""
    port = free_port()
    env = {**os.environ, "SPM_DATABASE_URL": database_url, "SPM_EVENT_BUS": bus,
           "SPM_REDIS_URL": REDIS_URL, "SPM_PLUGINS": ""}
    process = subprocess.Popen(
        [str(SPM_API), "serve", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        assert process.stdout is not None
        process.stdout.close()


async def wait_healthy(address: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            try:
                if (await http.get(f"http://{address}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"the API at {address} did not come up")


@asynccontextmanager
async def engine_for(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("bus", ["postgres", "redis"])
async def test_a_change_through_one_process_reaches_a_subscriber_of_another(
        bus: str, postgres_url: str) -> None:
    if bus == "redis":
        require_redis()
    async with engine_for(postgres_url) as engine:
        org = await make_org(engine, f"two-{bus}")
    with api_process(postgres_url, bus) as a, api_process(postgres_url, bus) as b:
        await asyncio.gather(wait_healthy(a), wait_healthy(b))
        async with subscriber(a, org.token(Role.VIEWER)) as client, \
                httpx.AsyncClient(base_url=f"http://{b}") as http:
            await client.subscribe(STAGE_CHANGED)
            await asyncio.sleep(0.3)  # A's LISTEN / SUBSCRIBE is in place
            portfolio = Portfolio(GraphQLClient(http), org)
            service = (await portfolio.create(f"Made through B on {bus}"))["id"]
            await portfolio.add_requirement(service)
            await portfolio.transition(service, "ANALYSIS")
            received = [(await client.next_data())["stageChanged"] for _ in range(2)]
            assert [r["stageChange"]["toStage"] for r in received] == ["DEFINITION",
                                                                       "ANALYSIS"]
            assert {r["service"]["name"] for r in received} == {f"Made through B on {bus}"}
