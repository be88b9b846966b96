"""CPU spent by a server process and by the PostgreSQL backends serving it.

The backends are found by their client ports: each TCP socket the server's processes
hold towards port 5432 is one connection of its pool, and pg_stat_activity names the
backend process at the other end. This works alike for both servers, whatever their
drivers let one set as ``application_name``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")
TICK = os.sysconf("SC_CLK_TCK")
PG_PORT = 5432


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()  # fields from 3 (state) on


def process_seconds(pid: int, with_children: bool = True) -> float:
    """User+system CPU of ``pid``, with its reaped children's when asked."""
    fields = _stat_fields(pid)
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if with_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / TICK


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int(_stat_fields(int(entry.name))[1])
            except (OSError, ValueError):
                continue
            parents.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def tree_seconds(pid: int) -> float:
    total = 0.0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):  # ended between the listing and the read
            total += process_seconds(member)
    return total


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def postgres_client_ports(pid: int) -> set[int]:
    """Local ports of the TCP connections to PostgreSQL held by ``pid``'s process tree."""
    inodes: set[str] = set()
    for member in process_tree(pid):
        try:
            inodes |= _socket_inodes(member)
        except OSError:
            continue
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            columns = line.split()
            local, remote, inode = columns[1], columns[2], columns[9]
            if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == PG_PORT:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


@dataclass(frozen=True)
class Spent:
    server_seconds: float
    backend_seconds: float
    #: backends that served the server during the run
    backend_count: int
    #: of those, the ones opened during the run and the ones closed before its end (a
    #: closed one's CPU is counted up to the last sample, at most one interval earlier)
    backends_opened: int
    backends_closed: int
    application_names: tuple[str, ...]


@dataclass
class Meter:
    """Samples a server's CPU and its backends' while a load runs.

    Backends come and go with the server's connection pool, and a backend's CPU is
    gone from /proc once it exits, so they are sampled every ``interval`` seconds:
    each one counts from where it stood at the start (0 when opened later) to its
    last sample.
    """

    pid: int
    database: str
    admin_url: str
    interval: float = 0.02
    _connection: Any = None
    _server_start: float = 0.0
    _first: dict[int, float] = field(default_factory=dict)
    _last: dict[int, float] = field(default_factory=dict)
    _names: set[str] = field(default_factory=set)
    _started: bool = False

    async def sample(self) -> set[int]:
        ports = postgres_client_ports(self.pid)
        rows = await self._connection.fetch(
            "SELECT pid, application_name FROM pg_stat_activity "
            "WHERE datname = $1 AND client_port = ANY($2::int[])", self.database, sorted(ports))
        alive = set()
        for row in rows:
            backend = int(row["pid"])
            try:
                seconds = process_seconds(backend, with_children=False)
            except OSError:
                continue
            alive.add(backend)
            self._first.setdefault(backend, seconds if not self._started else 0.0)
            self._last[backend] = seconds
            self._names.add(str(row["application_name"]))
        return alive

    async def run(self, load: Awaitable[T]) -> tuple[T, Spent]:
        """Await ``load`` (the load client) while sampling; what it returns, and the CPU
        spent meanwhile."""
        self._connection = await asyncpg.connect(self.admin_url)
        try:
            at_start = await self.sample()
            self._server_start = tree_seconds(self.pid)
            self._started = True
            task = asyncio.ensure_future(load)
            while not task.done():
                await self.sample()
                await asyncio.wait([task], timeout=self.interval)
            result = task.result()
            server_seconds = tree_seconds(self.pid) - self._server_start
            at_end = await self.sample()
        finally:
            await self._connection.close()
        backend_seconds = sum(last - self._first[backend] for backend, last in self._last.items())
        return result, Spent(
            server_seconds=server_seconds, backend_seconds=backend_seconds,
            backend_count=len(self._last), backends_opened=len(set(self._last) - at_start),
            backends_closed=len(set(self._last) - at_end),
            application_names=tuple(sorted(self._names)))
