"""What orchestrators and scrapers ask: ``/healthz`` (the process answers),
``/readyz`` (it can serve: database reachable and migrated to head, event bus
connected, plugins loaded, not shutting down; a read replica's trouble is told without
blocking, since reads then go to the primary) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from alembic.script import ScriptDirectory
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from spm_api.db import migrations
from spm_api.db.replica import ReadRouting
from spm_api.domain.sourcing import outbox
from spm_api.observability import metrics
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.web.shutdown import ShutdownState

#: Seconds one readiness check may take before it counts as failed.
CHECK_SECONDS = 2.0


def _said(error: BaseException) -> str:
    words = str(error).strip().splitlines()
    return f"{type(error).__name__}: {words[0] if words else ''}"[:300]


@dataclass
class Readiness:
    engine: AsyncEngine
    database_url: str
    bus: EventBus
    plugins: PluginHost
    shutdown: ShutdownState
    require_event_bus: bool
    #: The read replica, when one is set: its problems are told, never blocking (reads
    #: go to the primary meanwhile).
    routing: ReadRouting | None = None
    _scripts: ScriptDirectory | None = None

    def scripts(self) -> ScriptDirectory:
        if self._scripts is None:  # read once: the scripts do not change under a process
            self._scripts = ScriptDirectory.from_config(
                migrations.alembic_config(self.database_url))
        return self._scripts

    def behind(self, current: str | None) -> str | None:
        """Why the database's revision does not suit this version, or None. A revision
        this version does not know is a newer one (migrated ahead of a rolling upgrade):
        migrations are additive, so the old replicas keep serving until replaced."""
        scripts = self.scripts()
        head = scripts.get_current_head()
        if current == head:
            return None
        try:
            known = current is not None and scripts.get_revision(current) is not None
        except Exception:  # alembic's "no such revision": not one of ours, so newer
            known = False
        if current is not None and not known:
            return None
        return f"at migration {current}, not {head}: run `spm-api db upgrade`"

    async def database(self) -> str | None:
        try:
            async with asyncio.timeout(CHECK_SECONDS), self.engine.connect() as connection:
                current = await connection.scalar(
                    text("SELECT version_num FROM alembic_version"))
        except Exception as error:  # any failure is the reason, told in one line
            return f"unreachable or not migrated: {_said(error)}"
        return self.behind(current)

    async def event_bus(self) -> str | None:
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                return await self.bus.problem()
        except Exception as error:  # a check that fails is a reason like any other
            return _said(error)

    def loaded_plugins(self) -> str | None:
        """Plugins load when the app is built (a failure fails the start): the built-in
        ones at least are registered."""
        return None if self.plugins.describe() else "no plugins loaded"

    async def checks(self) -> dict[str, str | None]:
        """Each check's reason for failing, or None when it passes."""
        database, bus, replica = await asyncio.gather(
            self.database(), self.event_bus(), self.replica())
        found: dict[str, str | None] = {
            "database": database,
            "event_bus": bus,
            "plugins": self.loaded_plugins(),
            "shutdown": "shutting down" if self.shutdown.draining else None,
        }
        if self.routing is not None:
            found["replica"] = replica
        return found

    async def replica(self) -> str | None:
        if self.routing is None:
            return None
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                return await self.routing.problem()
        except Exception as error:  # a check that fails is a reason like any other
            return _said(error)

    async def readyz(self, _request: Request) -> Response:
        checks = await self.checks()
        blocking = {name: reason for name, reason in checks.items() if reason is not None
                    and name != "replica"
                    and (name != "event_bus" or self.require_event_bus)}
        body: dict[str, Any] = {
            "status": "unavailable" if blocking else "ok",
            "checks": {name: ({"ok": True} if reason is None else
                              {"ok": False, "reason": reason,
                               **({} if name in blocking else {"blocking": False})})
                       for name, reason in checks.items()},
        }
        return JSONResponse(body, status_code=503 if blocking else 200)


async def healthz(_request: Request) -> Response:
    """The process lives and its event loop turns; nothing else is asked."""
    return JSONResponse({"status": "ok"})


class _Backlog(Collector):
    def __init__(self, count: int, waited: float) -> None:
        self.count, self.waited = count, waited

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("spm_outbox_backlog", "Engagement requests and "
                                "cancellations not yet delivered", value=self.count)
        yield GaugeMetricFamily("spm_outbox_oldest_due_seconds", "How long the request "
                                "due longest has waited for the outbox worker",
                                value=self.waited)


def metrics_endpoint(sessions: async_sessionmaker[AsyncSession]) -> Any:
    async def scrape(_request: Request) -> Response:
        extra: list[Collector] = []
        try:  # the backlog is the database's: whichever worker is scraped reads it
            async with asyncio.timeout(CHECK_SECONDS):
                extra.append(_Backlog(*await outbox.backlog(sessions)))
        except Exception:  # the rest of the scrape still answers
            pass
        return Response(metrics.render(extra), media_type=metrics.CONTENT_TYPE)

    return scrape
