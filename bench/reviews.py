"""Benchmark: opening and reading a portfolio review, in process, on SQLite or PostgreSQL.

    .venv/bin/python bench/reviews.py [--services 2000] [--kpis 5] [--months 12]
        [--database sqlite|postgresql] [--database-url URL] [--profile N]

Seeds like bench/health.py (``--services`` live services, ``--kpis`` KPIs each, ``--months``
monthly values, costs and usage) into a fresh database (``postgresql``: one created for
the run at 127.0.0.1 under a unique name and dropped afterwards), then through the full
ASGI stack, as a decision maker would:

- opens a review of every live service (``openPortfolioReview``);
- reads it with every item's evidence, ruling and votes (``portfolioReview``), the page
  a decision maker opens.

Prints for each the wall time, the CPU time of this process (server and in-process
client; less swayed by other work on the machine), the SQL statements, and the answer's
size and digest (the same data give the same bytes, whichever path or version answers);
with ``--profile N``, cProfile's N costliest functions (own time) of the read.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import importlib.util
import io
import json
import pstats
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, select

from spm_api.app import create_app
from spm_api.db import migrations
from spm_api.db.engine import create_engine, create_session_factory
from spm_api.domain.tenancy import create_person
from spm_api.domain.tokens import issue_token
from spm_api.models import Organisation
from spm_api.plugins.host import PluginHost
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from spm_api.web import collector

_spec = importlib.util.spec_from_file_location("bench_health",
                                               Path(__file__).with_name("health.py"))
assert _spec is not None and _spec.loader is not None
health: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(health)

OPEN = """mutation { openPortfolioReview(input: {title: "Bench", periodFrom: "2026-01",
  periodTo: "2026-11"}) { review { id } errors { code message } } }"""
READ = """query($id: ID!) { portfolioReview(id: $id) { title state items {
  service { id name stage } recommendation rationale decision ruling explanation
  votes { decision comment voter { name } }
  evidence { health healthExplanation kpis { name unit target value period status }
             cost budget budgetVariance recovered costRecovery
             usageTrend { period quantity customers } openEngagements customersAffected }
} } }"""
ADMIN_URL = "postgresql://postgres@127.0.0.1/postgres"


async def decision_maker(url: str) -> str:
    """A decision maker of the seeded organisation, and a token of theirs."""
    engine = create_engine(url)
    async with create_session_factory(engine)() as session, session.begin():
        organisation = await session.scalar(select(Organisation.id).where(
            Organisation.slug == "bench"))
        assert organisation is not None
        person = await create_person(session, organisation, "Dana", "dana@bench.example",
                                     [Role.DECISION_MAKER])
        token = await issue_token(session, person.id)
    await engine.dispose()
    return token


async def measure(url: str, manager: str, decider: str, profile: int) -> dict[str, Any]:
    engine = create_engine(url)
    plugins = PluginHost.load(frozenset())
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    settings = Settings(database_url=url, plugins="", event_bus="memory")
    app = create_app(settings, engine=engine, plugins=plugins)
    collector.tune(settings.gc_threshold)  # as the server does once it is built (asgi.py)
    report: dict[str, Any] = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://bench", timeout=120) as http:

        async def post(token: str, query: str, variables: dict[str, Any]) -> httpx.Response:
            return await http.post("/graphql", headers={"Authorization": f"Bearer {token}"},
                                   json={"query": query, "variables": variables})

        async def timed(name: str, call: Callable[[], Any]) -> Any:
            """The request's wall and CPU time (this process: the server, and the
            in-process client's small share), then its answer, decoded untimed."""
            nonlocal statements
            statements = 0
            started, cpu = time.perf_counter(), time.process_time()
            response = await call()
            report[name] = {"ms": round((time.perf_counter() - started) * 1000, 1),
                            "cpu_ms": round((time.process_time() - cpu) * 1000, 1),
                            "statements": statements, "bytes": len(response.content),
                            "sha256": hashlib.sha256(response.content).hexdigest()[:16]}
            body = response.json()
            assert not body.get("errors"), response.text[:500]
            return body

        opened = await timed("open a review of every live service",
                             lambda: post(manager, OPEN, {}))
        review = opened["data"]["openPortfolioReview"]["review"]["id"]
        read = await timed("read it with every item's evidence",
                           lambda: post(decider, READ, {"id": review}))
        report["items read"] = len(read["data"]["portfolioReview"]["items"])
        await timed("read it again", lambda: post(decider, READ, {"id": review}))
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await post(decider, READ, {"id": review})
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(profile)
            print(out.getvalue())
    plugins.close()
    await engine.dispose()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help="an empty database instead of a fresh one")
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--kpis", type=int, default=5)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    cleanup: Callable[[], None] | None = None
    if args.database_url:
        url = args.database_url
    elif args.database == "postgresql":
        import asyncpg

        name = f"spm_bench_reviews_{uuid.uuid4().hex[:8]}"

        async def admin(sql: str) -> None:
            connection = await asyncpg.connect(ADMIN_URL)
            await connection.execute(sql)
            await connection.close()

        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        url = f"postgresql+asyncpg://postgres@127.0.0.1/{name}"
        cleanup = lambda: asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))  # noqa: E731
    else:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    try:
        migrations.upgrade(url)
        manager = asyncio.run(health.seed(url, args.services, args.kpis, args.months))
        decider = asyncio.run(decision_maker(url))
        report = asyncio.run(measure(url, manager, decider, args.profile))
        print(json.dumps({"database": url.split(":", 1)[0], "services": args.services,
                          "kpis_per_service": args.kpis, "months": args.months, **report},
                         indent=2))
    finally:
        if cleanup:
            cleanup()


if __name__ == "__main__":
    main()
