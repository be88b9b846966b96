"""Two API processes on one event bus: a subscriber connected to process A receives the
change made through process B — on PostgreSQL LISTEN/NOTIFY and on Redis pub/sub.

The processes are real ``spm-api serve`` servers on free loopback ports, sharing this
test process's PostgreSQL database and Redis channel prefix. Without PostgreSQL or Redis
the test skips with the reason, except in CI, where it fails.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.engine import create_engine
from spm_api.realtime.bus import channel_of
from spm_api.vocabulary.enums import Role
from tests.conftest import REDIS_CHANNEL_PREFIX, REDIS_URL, require_redis
from tests.support import GraphQLClient, Portfolio, make_org
from tests.ws import free_port, subscriber

SPM_API = Path(sys.executable).with_name("spm-api")

STAGE_CHANGED = "subscription { stageChanged { stageChange { toStage } service { name } } }"


#: Attempts at starting a server: a free port can be taken by someone else between
#: finding it and the server binding it.
STARTS = 3


@asynccontextmanager
async def api_process(database_url: str, bus: str) -> AsyncIterator[str]:
    """``spm-api serve`` on a free port with the given bus, once healthy; yields its
    address."""
    env = {**os.environ, "SPM_DATABASE_URL": database_url, "SPM_EVENT_BUS": bus,
           "SPM_REDIS_URL": REDIS_URL, "SPM_REDIS_CHANNEL_PREFIX": REDIS_CHANNEL_PREFIX,
           "SPM_PLUGINS": ""}
    for attempt in range(1, STARTS + 1):
        address = f"127.0.0.1:{free_port()}"
        host, port = address.split(":")
        process = await asyncio.create_subprocess_exec(
            str(SPM_API), "serve", "--host", host, "--port", port, "--log-level", "warning",
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            if await healthy(address, process):
                yield address
                return
            assert process.stdout is not None
            output = (await process.stdout.read()).decode(errors="replace")
            assert "address already in use" in output and attempt < STARTS, (
                f"the API at {address} did not come up:\n{output}")
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except TimeoutError:
                    process.kill()
                    await process.wait()


@asynccontextmanager
async def api_processes(database_url: str, bus: str, count: int) -> AsyncIterator[list[str]]:
    """``count`` servers started side by side (each takes seconds to import and start)."""
    async with AsyncExitStack() as stack:
        async with asyncio.TaskGroup() as starting:
            started = [starting.create_task(
                stack.enter_async_context(api_process(database_url, bus)))
                for _ in range(count)]
        yield [task.result() for task in started]


#: How long a server may take to start: seconds when the machine is busy (two test
#: processes, each starting servers side by side).
START_SECONDS = 30


async def healthy(address: str, process: asyncio.subprocess.Process) -> bool:
    """True once the API answers /health; False when the process ended first."""
    async with httpx.AsyncClient() as http:
        for _ in range(START_SECONDS * 20):
            if process.returncode is not None:
                return False
            try:
                if (await http.get(f"http://{address}/health")).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"the API at {address} did not come up within {START_SECONDS} s")


async def _overhear(channel: str) -> asyncio.Task[str]:
    """The first message on a Redis channel, heard by a client of its own."""
    from redis import asyncio as redis

    client = redis.Redis.from_url(REDIS_URL)
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)
    confirmed = await pubsub.get_message(timeout=5)
    assert confirmed is not None and confirmed["type"] == "subscribe", confirmed

    async def first() -> str:
        try:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                   timeout=5)
                if message is not None:
                    return bytes(message["data"]).decode()
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            await client.aclose()

    return asyncio.create_task(first())


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
    async with api_processes(postgres_url, bus, 2) as (a, b), \
            subscriber(a, org.token(Role.VIEWER)) as client, \
            httpx.AsyncClient(base_url=f"http://{b}") as http:
        await client.subscribe(STAGE_CHANGED)
        overhearing = await _overhear(REDIS_CHANNEL_PREFIX + channel_of(org.id)) \
            if bus == "redis" else None
        await asyncio.sleep(0.3)  # A's LISTEN / SUBSCRIBE is in place
        portfolio = Portfolio(GraphQLClient(http), org)
        service = (await portfolio.create(f"Made through B on {bus}"))["id"]
        await portfolio.add_requirement(service)
        await portfolio.transition(service, "ANALYSIS")
        received = [(await client.next_data())["stageChanged"] for _ in range(2)]
        assert [r["stageChange"]["toStage"] for r in received] == ["DEFINITION",
                                                                   "ANALYSIS"]
        assert {r["service"]["name"] for r in received} == {f"Made through B on {bus}"}
        if overhearing is not None:  # B published under this run's channel prefix
            assert "stage_changed" in await asyncio.wait_for(overhearing, 5)
