"""Benchmark: one stage change fanned out to N WebSocket subscribers of one server.

    .venv/bin/python bench/subscriptions.py [--subscribers 1000] [--rounds 3]
        [--postgres] [--bus memory|postgres|redis] [--settle 2] [--no-deflate]
        [--server-deflate] [--clients 1] [--unshared] [--planned on|off]

Starts one real ``spm-api serve`` process on a fresh database (a temporary SQLite file
with the memory bus; with ``--postgres`` the PostgreSQL database ``spm_bench_subs`` at
127.0.0.1, dropped and recreated, with the postgres bus unless ``--bus redis``),
migrated with ``spm-api db upgrade`` and seeded with ``spm-api demo``. This process
(or, with ``--clients K``, K client processes, so the clients' own work is not what is
measured) then opens N graphql-transport-ws connections as the demo's viewer, each
subscribed to ``stageChanged``, and reads the server's resident memory before the first
connection and once all are subscribed. ``--server-deflate`` lets the server negotiate
permessage-deflate (``SPM_WS_PER_MESSAGE_DEFLATE=true``; off by default), which the
clients offer unless ``--no-deflate``. ``--unshared`` gives each subscriber a document of
its own (a comment), so each event is written once per subscriber rather than once per
group, as for resuming subscriptions; ``--planned off`` has the executor write every event
instead of the planned read path. Each round the portfolio manager creates one service over
HTTP (one stage change, into DEFINITION); every connection has its own task blocked on
``recv`` and stamps the ``next`` message with ``time.perf_counter()`` on arrival.
Printed per round: how many of N received the change and the delivery latency (first,
p50, p95, p99, max) from just before the mutation was sent and from its HTTP response
(the commit), and the server's CPU time for the round (the mutation included); then the
median of the rounds. Arrival stamps are ``time.perf_counter()`` (CLOCK_MONOTONIC, the
same clock in every process).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

SPM_API = Path(sys.executable).with_name("spm-api")
ADMIN_URL = "postgresql://postgres@127.0.0.1/postgres"
DATABASE = "spm_bench_subs"
REDIS_URL = "redis://127.0.0.1:6379/0"
PROTOCOL = Subprotocol("graphql-transport-ws")

SUBSCRIPTION = ("subscription { stageChanged { cursor stageChange { toStage } "
                "service { id name stage } } }")
CREATE_SERVICE = """mutation($input: CreateServiceInput!) {
  createService(input: $input) { service { id } errors { code message } } }"""

#: The latency figures of a round, in milliseconds.
FIGURES = ("first", "p50", "p95", "p99", "max")
#: Handshakes in flight at once while connecting: enough to open 1,000 connections in
#: seconds without overrunning the server's accept backlog.
CONNECTING_AT_ONCE = 50


# --- the server ----------------------------------------------------------------------


def fresh_database(postgres: bool, workdir: Path) -> str:
    """An empty database: ``spm_bench_subs`` dropped and recreated, so every run starts
    from the same state, or a new SQLite file in ``workdir``."""
    if not postgres:
        return f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    import asyncpg

    async def recreate() -> None:
        connection = await asyncpg.connect(ADMIN_URL)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await connection.close()

    asyncio.run(recreate())
    return f"postgresql+asyncpg://postgres@127.0.0.1/{DATABASE}"


def server_env(database_url: str, bus: str, deflate: bool = False, planned: str = "on"
               ) -> dict[str, str]:
    """The environment of every ``spm-api`` command: the database, the bus, and no
    third-party plugins, so only the API itself is measured."""
    return {**os.environ, "SPM_DATABASE_URL": database_url, "SPM_EVENT_BUS": bus,
            "SPM_REDIS_URL": REDIS_URL, "SPM_PLUGINS": "", "SPM_PLANNED_READS": planned,
            "SPM_WS_PER_MESSAGE_DEFLATE": "true" if deflate else "false"}


def subscription_of(index: int, unshared: bool) -> str:
    """The document subscriber ``index`` sends: with ``unshared`` a comment makes each
    one its own (one execution per subscriber and event, as resuming ones are)."""
    return f"{SUBSCRIPTION} # subscriber {index}" if unshared else SUBSCRIPTION


def spm_api(env: dict[str, str], *args: str) -> str:
    """Run one ``spm-api`` command to completion (the way an operator would) and return
    what it printed."""
    done = subprocess.run([str(SPM_API), *args], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"spm-api {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def seed(env: dict[str, str]) -> tuple[str, str]:
    """Migrate and create the demo organisation; returns the viewer's token (the
    subscribers: the least privileged reader) and the portfolio manager's (the change)."""
    spm_api(env, "db", "upgrade")
    people = json.loads(spm_api(env, "demo", "--once", "--json", "--services", "3"))["people"]
    token = {role: person["token"] for person in people for role in person["roles"]}
    return token["VIEWER"], token["PORTFOLIO_MANAGER"]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """One ``spm-api serve`` process (one worker, so its pid is the server's), logging to
    a file rather than a pipe nobody reads, which could fill and stall it."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [str(SPM_API), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning"], env=env, stdout=output, stderr=subprocess.STDOUT)


async def wait_healthy(base_url: str, server: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        for _ in range(400):
            if server.poll() is not None:
                raise SystemExit(f"the server exited with {server.returncode}")
            try:
                if (await http.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit(f"the server at {base_url} did not come up")


def rss_mib(pid: int) -> float:
    """The process's resident set (VmRSS) now, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the subscribers ------------------------------------------------------------------


@dataclass
class Subscriber:
    """One connection and the arrival time of each change it received, by service name."""

    socket: ClientConnection
    arrivals: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    async def listen(self) -> None:
        """Block on ``recv`` and stamp each message the moment it arrives, before parsing,
        so a subscriber's time does not include the others' processing. Keep-alive pings
        are answered."""
        try:
            while True:
                raw = await self.socket.recv()
                arrived = time.perf_counter()
                message = json.loads(raw)
                if message["type"] == "ping":
                    await self.socket.send(json.dumps({"type": "pong"}))
                elif message["type"] == "next" and not message["payload"].get("errors"):
                    event = message["payload"]["data"]["stageChanged"]
                    self.arrivals[event["service"]["name"]] = arrived
                else:
                    self.problems.append(str(message)[:300])
        except ConnectionClosed as closed:
            self.problems.append(f"connection closed: {closed}")


async def open_subscriber(address: str, token: str, deflate: bool,
                          gate: asyncio.Semaphore, query: str = SUBSCRIPTION
                          ) -> tuple[Subscriber, asyncio.Task[None]]:
    """Connect, authenticate in ``connection_init``, wait for the ack, subscribe, and
    start the connection's listening task."""
    async with gate:
        socket = await connect(f"ws://{address}/graphql", subprotocols=[PROTOCOL],
                               ping_interval=None, open_timeout=60,
                               compression="deflate" if deflate else None)
        await socket.send(json.dumps({"type": "connection_init",
                                      "payload": {"Authorization": f"Bearer {token}"}}))
        ack = json.loads(await asyncio.wait_for(socket.recv(), 60))
        if ack["type"] != "connection_ack":
            raise SystemExit(f"connection_init was answered with {ack}")
        await socket.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": query}}))
    subscriber = Subscriber(socket)
    return subscriber, asyncio.create_task(subscriber.listen())


async def open_all(address: str, token: str, count: int, deflate: bool,
                   unshared: bool = False, first: int = 0
                   ) -> tuple[list[Subscriber], list[asyncio.Task[None]]]:
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
    opened = await asyncio.gather(*(open_subscriber(address, token, deflate, gate,
                                                    subscription_of(first + i, unshared))
                                    for i in range(count)))
    return [subscriber for subscriber, _ in opened], [task for _, task in opened]


async def arrivals_of(subscribers: list[Subscriber], name: str, deadline: float
                      ) -> list[float]:
    """Arrival times of change ``name``, once every subscriber has it or at ``deadline``
    (a ``perf_counter`` value)."""
    while time.perf_counter() < deadline:
        if all(name in subscriber.arrivals for subscriber in subscribers):
            break
        await asyncio.sleep(0.005)
    return [s.arrivals[name] for s in subscribers if name in s.arrivals]


class Clients:
    """The subscribers, in this process or spread over ``processes`` others."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self.local: list[Subscriber] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.workers: list[tuple[Any, Any]] = []

    async def open(self, address: str, token: str, count: int, deflate: bool,
                   unshared: bool = False) -> None:
        if self.processes <= 1:
            self.local, self.tasks = await open_all(address, token, count, deflate, unshared)
            return
        context = multiprocessing.get_context("spawn")
        shares = [count // self.processes + (i < count % self.processes)
                  for i in range(self.processes)]
        for index, share in enumerate(shares):
            mine, theirs = context.Pipe()
            process = context.Process(target=client_process,
                                      args=(theirs, address, token, share, deflate,
                                            unshared, sum(shares[:index])))
            process.start()
            self.workers.append((process, mine))
        for _, pipe in self.workers:
            reply = await asyncio.to_thread(pipe.recv)
            if reply != "ready":
                raise SystemExit(f"a client process failed: {reply}")

    async def arrivals(self, name: str, deadline: float) -> list[float]:
        if not self.workers:
            return await arrivals_of(self.local, name, deadline)
        for _, pipe in self.workers:
            pipe.send(("collect", name, deadline))
        replies = await asyncio.gather(*(asyncio.to_thread(pipe.recv)
                                         for _, pipe in self.workers))
        return [t for reply in replies for t in reply]

    async def problems(self) -> list[str]:
        if not self.workers:
            return [p for s in self.local for p in s.problems]
        for _, pipe in self.workers:
            pipe.send(("problems",))
        replies = await asyncio.gather(*(asyncio.to_thread(pipe.recv)
                                         for _, pipe in self.workers))
        return [p for reply in replies for p in reply]

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for process, pipe in self.workers:
            with contextlib.suppress(OSError):
                pipe.send(("stop",))
            process.join(30)
            if process.is_alive():
                process.kill()


def client_process(pipe: Any, address: str, token: str, count: int, deflate: bool,
                   unshared: bool = False, first: int = 0) -> None:
    """A client process: open ``count`` subscribers, then answer the main process's
    requests for arrival times until told to stop."""
    allow_descriptors(count)

    async def serve() -> None:
        try:
            subscribers, tasks = await open_all(address, token, count, deflate, unshared,
                                                first)
        except BaseException as error:
            pipe.send(f"{type(error).__name__}: {error}")
            raise
        pipe.send("ready")
        while True:
            request = await asyncio.to_thread(pipe.recv)
            if request[0] == "collect":
                pipe.send(await arrivals_of(subscribers, request[1], request[2]))
            elif request[0] == "problems":
                pipe.send([p for s in subscribers for p in s.problems])
            else:
                break
        for task in tasks:
            task.cancel()

    asyncio.run(serve())


# --- one round ------------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    received: int
    from_send: dict[str, float]
    from_commit: dict[str, float]
    mutation_ms: float
    server_cpu_s: float
    server_rss_mib: float


def percentiles(delays: list[float]) -> dict[str, float]:
    """First, p50, p95 (nearest rank) and max in milliseconds; NaN when nothing arrived."""
    if not delays:
        return dict.fromkeys(FIGURES, math.nan)
    ordered = sorted(delays)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)]

    return {"first": 1000 * ordered[0], "p50": 1000 * rank(0.50), "p95": 1000 * rank(0.95),
            "p99": 1000 * rank(0.99), "max": 1000 * ordered[-1]}


async def one_round(http: httpx.AsyncClient, manager: str, clients: Clients,
                    pid: int, patience: float) -> Round:
    """Create one service (one stage change) and wait until every subscriber has it or
    ``patience`` seconds have passed since the commit."""
    name = f"Bench change {uuid.uuid4().hex[:8]}"
    variables = {"input": {"name": name, "investmentCategory": "RUN"}}
    cpu = cpu_seconds(pid)
    t0 = time.perf_counter()
    response = await http.post("/graphql", json={"query": CREATE_SERVICE,
                                                 "variables": variables},
                               headers={"Authorization": f"Bearer {manager}"})
    t_commit = time.perf_counter()
    body = response.json()
    if body.get("errors") or body["data"]["createService"]["errors"]:
        raise SystemExit(f"createService failed: {body}")
    arrived = await clients.arrivals(name, t_commit + patience)
    cpu = cpu_seconds(pid) - cpu
    return Round(received=len(arrived),
                 from_send=percentiles([t - t0 for t in arrived]),
                 from_commit=percentiles([t - t_commit for t in arrived]),
                 mutation_ms=1000 * (t_commit - t0), server_cpu_s=cpu,
                 server_rss_mib=rss_mib(pid))


def show_round(label: str, result: Round, count: int) -> None:
    def figures(delays: dict[str, float]) -> str:
        return " ".join(f"{delays[key]:5.0f}" for key in FIGURES)

    print(f"{label:<8} received {result.received}/{count}  mutation {result.mutation_ms:5.1f} ms"
          f"  from send {figures(result.from_send)} ms"
          f"  from commit {figures(result.from_commit)} ms"
          f"  server CPU {1000 * result.server_cpu_s:5.0f} ms"
          f"  RSS {result.server_rss_mib:5.1f} MiB")


def median_round(rounds: list[Round]) -> Round:
    """Each figure's median over the rounds (figure by figure, not one chosen round)."""

    def middle(pick: str, key: str) -> float:
        return float(statistics.median(getattr(r, pick)[key] for r in rounds))

    return Round(
        received=int(statistics.median(r.received for r in rounds)),
        from_send={key: middle("from_send", key) for key in FIGURES},
        from_commit={key: middle("from_commit", key) for key in FIGURES},
        mutation_ms=statistics.median(r.mutation_ms for r in rounds),
        server_cpu_s=statistics.median(r.server_cpu_s for r in rounds),
        server_rss_mib=rounds[-1].server_rss_mib)


# --- the run --------------------------------------------------------------------------


def allow_descriptors(count: int) -> None:
    """Raise this process's open-file limit (the server inherits it): each connection is
    a descriptor at both ends."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


async def measure(args: argparse.Namespace, env: dict[str, str], tokens: tuple[str, str],
                  log: Path) -> None:
    viewer, manager = tokens
    port = free_port()
    address, base_url = f"127.0.0.1:{port}", f"http://127.0.0.1:{port}"
    server = start_server(env, port, log)
    clients = Clients(args.clients)
    try:
        await wait_healthy(base_url, server)
        before = rss_mib(server.pid)
        started = time.perf_counter()
        await clients.open(address, viewer, args.subscribers, args.deflate, args.unshared)
        connecting = time.perf_counter() - started
        await asyncio.sleep(args.settle)  # the last subscriptions reach bus.subscribe
        after = rss_mib(server.pid)
        print(f"{args.subscribers} subscribers connected, acknowledged and subscribed in "
              f"{connecting:.1f} s; server RSS {before:.1f} MiB before, {after:.1f} MiB "
              f"after: {1024 * (after - before) / args.subscribers:.1f} KiB per connection")
        print("latency columns: first, p50, p95, p99, max")
        rounds: list[Round] = []
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
            await http.get("/health")  # the HTTP connection is open before t0
            for number in range(1, args.rounds + 1):
                rounds.append(await one_round(http, manager, clients, server.pid,
                                              args.timeout))
                show_round(f"round {number}", rounds[-1], args.subscribers)
                await asyncio.sleep(1.0)  # the server finishes closing the event sessions
        show_round("median", median_round(rounds), args.subscribers)
        problems = await clients.problems()
        if problems:
            print(f"{len(problems)} unexpected messages, e.g. {problems[:3]}")
    finally:
        clients.close()
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def show_log(log: Path) -> None:
    """The end of the server's log: at --log-level warning, anything there is news."""
    lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    if lines:
        print(f"server log, last of {len(lines)} lines:", *lines[-15:], sep="\n  ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true",
                        help=f"recreate the PostgreSQL database {DATABASE} at 127.0.0.1")
    parser.add_argument("--bus", choices=["memory", "postgres", "redis"],
                        help="default: memory on SQLite, postgres with --postgres")
    parser.add_argument("--settle", type=float, default=2.0,
                        help="seconds to wait after the last subscribe before measuring")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds after the commit to wait for every subscriber")
    parser.add_argument("--no-deflate", dest="deflate", action="store_false",
                        help="do not negotiate permessage-deflate (browsers do)")
    parser.add_argument("--server-deflate", action="store_true",
                        help="let the server negotiate permessage-deflate")
    parser.add_argument("--unshared", action="store_true",
                        help="each subscriber its own document: one execution per "
                             "subscriber and event instead of one per group")
    parser.add_argument("--planned", choices=["on", "off"], default="on",
                        help="whether the planned read path writes the events "
                             "(SPM_PLANNED_READS)")
    parser.add_argument("--clients", type=int, default=1,
                        help="client processes the subscribers are spread over")
    args = parser.parse_args()
    bus = args.bus or ("postgres" if args.postgres else "memory")
    if bus != "memory" and not args.postgres:
        parser.error(f"--bus {bus} needs --postgres (one process may use the memory bus)")
    print("command:", shlex.join([".venv/bin/python", "bench/subscriptions.py", *sys.argv[1:]]))
    allow_descriptors(args.subscribers)
    with tempfile.TemporaryDirectory(prefix="spm-bench-subs-") as workdir:
        database_url = fresh_database(args.postgres, Path(workdir))
        print(f"database {database_url.split(':', 1)[0]}, bus {bus}, "
              f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
        env = server_env(database_url, bus, args.server_deflate, args.planned)
        log = Path(workdir) / "server.log"
        try:
            asyncio.run(measure(args, env, seed(env), log))
        finally:
            show_log(log)


if __name__ == "__main__":
    main()
