"""``spm-api serve`` as an operator runs it, in processes of its own: with two workers
a scrape of ``/metrics`` counts every worker's requests, one JSON line per request; and
SIGTERM during a burst of mutations and open subscriptions loses nothing that was
acknowledged, and subscribers that resume with their cursor get every change once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from spm_api.db.engine import create_engine
from spm_api.vocabulary.enums import Role
from tests.conftest import REDIS_CHANNEL_PREFIX, REDIS_URL
from tests.support import CREATE_SERVICE, Org, empty_tables, make_org
from tests.test_operations import samples, value
from tests.ws import PROTOCOL, free_port

SPM_API = Path(sys.executable).with_name("spm-api")
STARTS = 3
WHO = "query Who { viewer { name } }"
WATCH = """subscription Watch($after: String) {
  stageChanged(after: $after) { cursor service { name } }
}"""


@dataclass
class Server:
    address: str
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines if line.startswith("{")]


async def _read(stream: asyncio.StreamReader, into: list[str]) -> None:
    while line := await stream.readline():
        into.append(line.decode(errors="replace").rstrip("\n"))


@asynccontextmanager
async def serve(database_url: str, *args: str, **env: str) -> AsyncIterator[Server]:
    """``spm-api serve`` on a free port, once it answers /healthz; ended (SIGTERM, then
    SIGKILL) on the way out unless the test ended it."""
    environment = {**os.environ, "SPM_DATABASE_URL": database_url, "SPM_PLUGINS": "",
                   "SPM_REDIS_URL": REDIS_URL, "SPM_REDIS_CHANNEL_PREFIX": REDIS_CHANNEL_PREFIX,
                   **env}
    for attempt in range(1, STARTS + 1):
        address = f"127.0.0.1:{free_port()}"
        host, port = address.split(":")
        process = await asyncio.create_subprocess_exec(
            str(SPM_API), "serve", "--host", host, "--port", port, *args, env=environment,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert process.stderr is not None
        server = Server(address, process)
        reader = asyncio.create_task(_read(process.stderr, server.lines))
        try:
            if await _live(server):
                yield server
                return
            await reader
            output = "\n".join(server.lines)
            assert "address already in use" in output and attempt < STARTS, output
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 20)
                except TimeoutError:
                    process.kill()
                    await process.wait()
            await reader


async def _live(server: Server) -> bool:
    async with httpx.AsyncClient() as http:
        for _ in range(400):
            if server.process.returncode is not None:
                return False
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"http://{server.address}/readyz")).status_code == 200:
                    return True
            await asyncio.sleep(0.05)
    raise AssertionError(f"the API at {server.address} did not come up within 20 s")


@asynccontextmanager
async def emptied_after(url: str) -> AsyncIterator[AsyncEngine]:
    """This test's own engine (the servers are other processes); tables emptied after."""
    engine = create_engine(url)
    try:
        yield engine
    finally:
        async with engine.begin() as connection:
            await empty_tables(connection)
        await engine.dispose()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    async with emptied_after(database_url) as engine:
        yield engine


@pytest.fixture
async def postgres_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    async with emptied_after(postgres_url) as engine:
        yield engine


@pytest.mark.postgres
async def test_two_workers_count_into_one_scrape(postgres_url: str,
                                                 postgres_engine: AsyncEngine,
                                                 tmp_path: Path) -> None:
    """Two workers need a bus between processes: PostgreSQL's, so this runs there."""
    org = await make_org(postgres_engine, "workers")
    headers = {"Authorization": f"Bearer {org.token(Role.VIEWER)}"}
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    async with serve(postgres_url, "--workers", "2", SPM_EVENT_BUS="postgres",
                     SPM_LOG_FORMAT="json",
                     PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)) as server:
        base = f"http://{server.address}"
        sent: list[str] = []

        async def one() -> None:
            async with httpx.AsyncClient(base_url=base) as http:  # a connection each
                response = await http.post("/graphql", json={"query": WHO}, headers=headers)
                assert response.status_code == 200 and "errors" not in response.json()
                sent.append(response.headers["x-request-id"])

        def pids() -> set[int]:
            return {line["pid"] for line in server.json_lines()
                    if line["logger"] == "spm_api.requests"}

        for _ in range(20):  # until both workers have answered some
            await asyncio.gather(*(one() for _ in range(10)))
            await asyncio.sleep(0.1)
            if len(pids()) == 2:
                break
        assert len(pids()) == 2, "both workers answered requests"
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(6):  # whichever worker answers, the count is everyone's
                scraped = samples((await http.get("/metrics",
                                                  headers={"Connection": "close"})).text)
                assert value(scraped, "spm_requests_total", operation="Who", type="query",
                             outcome="ok") == len(sent)
                assert value(scraped, "spm_request_duration_seconds_count",
                             operation="Who", type="query") == len(sent)
        lines = [line for line in server.json_lines() if line["logger"] == "spm_api.requests"]
        assert sorted(line["request_id"] for line in lines) == sorted(sent)
        line = lines[0]
        assert line["operation"] == "Who" and line["operation_type"] == "query"
        assert line["outcome"] == "ok" and line["status"] == 200
        assert line["organisation"] == org.id
        assert line["person"] == org.person_ids[Role.VIEWER]
        assert line["statements"] >= 1 and line["duration_ms"] > 0
        assert {"time", "level", "message", "sql_ms", "method", "path"} <= set(line)
        assert not [text for text in server.lines if '"uvicorn.access"' in text]


@dataclass
class Watcher:
    """A subscriber that keeps the cursor of the last change it received."""

    token: str
    received: list[str] = field(default_factory=list)
    cursor: str | None = None
    closed_with: int | None = None

    async def watch(self, address: str, ready: asyncio.Event | None = None,
                    until: int | None = None) -> None:
        async with connect(f"ws://{address}/graphql",
                           subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
            await socket.send(json.dumps({"type": "connection_init",
                                          "payload": {"Authorization": f"Bearer {self.token}"}}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": WATCH, "variables": {"after": self.cursor}}}))
            try:
                while until is None or len(self.received) < until:
                    message = json.loads(await socket.recv())
                    if message["type"] == "ping":
                        await socket.send(json.dumps({"type": "pong"}))
                        continue
                    assert message["type"] == "next", message
                    event = message["payload"]["data"]["stageChanged"]
                    self.received.append(event["service"]["name"])
                    self.cursor = event["cursor"]
                    if ready is not None:
                        ready.set()
            except ConnectionClosed as closed:
                self.closed_with = closed.rcvd.code if closed.rcvd else None


async def test_sigterm_loses_nothing_acknowledged(database_url: str, engine: AsyncEngine
                                                  ) -> None:
    org: Org = await make_org(engine, "sigterm")
    writer = {"Authorization": f"Bearer {org.token(Role.CONTRIBUTOR)}"}
    watchers = [Watcher(org.token(Role.VIEWER)) for _ in range(3)]
    acknowledged: list[str] = []
    async with serve(database_url, SPM_SHUTDOWN_DRAIN_SECONDS="3",
                     SPM_SHUTDOWN_TIMEOUT_SECONDS="10") as server:
        base = f"http://{server.address}"
        ready = [asyncio.Event() for _ in watchers]
        watching = [asyncio.create_task(w.watch(server.address, r))
                    for w, r in zip(watchers, ready, strict=True)]

        async def create(http: httpx.AsyncClient, name: str) -> None:
            response = await http.post("/graphql", headers=writer, json={
                "query": CREATE_SERVICE, "variables": {"input": {
                    "name": name, "investmentCategory": "RUN", "objectives": "o"}}})
            body = response.json()
            if response.status_code == 200 and not body.get("errors") and \
                    body["data"]["createService"]["errors"] == []:
                acknowledged.append(name)

        async with httpx.AsyncClient(base_url=base) as http:
            # Every subscriber listens (it received a change) before the burst; what it
            # must get from then on is every later change, in order, once.
            for warm_up in range(100):
                await create(http, f"warm-up {warm_up}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 0.2)
                    break
            assert all(r.is_set() for r in ready)
            stop = asyncio.Event()

            async def burst(lane: int) -> None:
                count = 0
                async with httpx.AsyncClient(base_url=base, timeout=15) as own:
                    while not stop.is_set():
                        count += 1
                        try:
                            await create(own, f"lane {lane} #{count}")
                        except httpx.TransportError:
                            await asyncio.sleep(0.02)  # refused once the socket closed

            lanes = [asyncio.create_task(burst(lane)) for lane in range(4)]
            await asyncio.sleep(1.0)
            before_signal = len(acknowledged)
            server.process.send_signal(signal.SIGTERM)
            # Draining: no longer ready, still serving.
            for _ in range(100):
                draining = await http.get("/readyz")
                if draining.status_code == 503:
                    break
                await asyncio.sleep(0.01)
            assert draining.status_code == 503
            assert draining.json()["checks"]["shutdown"]["reason"] == "shutting down"
            signalled = len(acknowledged)
            for _ in range(150):
                if len(acknowledged) > signalled:
                    break
                await asyncio.sleep(0.01)
            assert len(acknowledged) > signalled, "mutations go on while draining"
            assert signalled >= before_signal
            # uvicorn re-raises the signal once it has shut down cleanly.
            assert await asyncio.wait_for(server.process.wait(), 30) == -signal.SIGTERM
            assert "Application shutdown complete." in "\n".join(server.lines)
            stop.set()
            await asyncio.gather(*lanes)
        await asyncio.wait_for(asyncio.gather(*watching), 10)
    assert [w.closed_with for w in watchers] == [1012] * 3  # Service Restart: reconnect
    assert len(acknowledged) > 10

    async with engine.connect() as connection:
        stored = set((await connection.execute(
            text("SELECT name FROM service WHERE organisation_id = :org"),
            {"org": org.id})).scalars())
        in_order = list((await connection.execute(text(
            "SELECT s.name FROM stage_change c JOIN service s ON s.id = c.service_id "
            "WHERE c.organisation_id = :org ORDER BY c.id"), {"org": org.id})).scalars())
    assert set(acknowledged) <= stored  # every success answer is in the database
    assert sorted(in_order) == sorted(stored)  # one change (the creation) per service

    def expected(watcher: Watcher) -> list[str]:
        return in_order[in_order.index(watcher.received[0]):]

    async with serve(database_url) as again:
        await asyncio.wait_for(asyncio.gather(*(
            w.watch(again.address, until=len(expected(w))) for w in watchers)), 20)
    for watcher in watchers:
        assert watcher.received == expected(watcher), "every change after its start, once"
