"""Benchmark: opening and reading a portfolio review, in process, on SQLite (or
PostgreSQL with --database-url).

    .venv/bin/python bench/reviews.py [--database-url URL] [--services 500] [--kpis 5]
        [--months 12]

Seeds like bench/health.py (``--services`` live services, ``--kpis`` KPIs each, ``--months``
monthly values, costs and usage), then through the full ASGI stack opens a review of
every live service and reads it with every item's evidence. Prints the wall time and
the SQL statements of each.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from spm_api.app import create_app
from spm_api.db import migrations
from spm_api.db.engine import create_engine
from spm_api.plugins.host import PluginHost
from spm_api.settings import Settings

_spec = importlib.util.spec_from_file_location("bench_health",
                                               Path(__file__).with_name("health.py"))
assert _spec is not None and _spec.loader is not None
health: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(health)

OPEN = """mutation { openPortfolioReview(input: {title: "Bench", periodFrom: "2026-01",
  periodTo: "2026-11"}) { review { id } errors { code message } } }"""
READ = """query($id: ID!) { portfolioReview(id: $id) { items {
  service { name } recommendation ruling
  evidence { health kpis { name value status } cost budget costRecovery
             usageTrend { period quantity } openEngagements customersAffected }
} } }"""


async def measure(url: str, token: str) -> dict[str, Any]:
    engine = create_engine(url)
    plugins = PluginHost.load(frozenset())
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    app = create_app(Settings(database_url=url, plugins="", event_bus="memory"),
                     engine=engine, plugins=plugins)
    report: dict[str, Any] = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://bench") as http:
        for name, query, variables in (("open a review of every live service", OPEN, {}),
                                       ("read it with every item's evidence", READ, None)):
            statements = 0
            started = time.perf_counter()
            sent = variables if variables is not None else {"id": report["id"]}
            response = await http.post("/graphql", headers=headers,
                                       json={"query": query, "variables": sent})
            elapsed = time.perf_counter() - started
            body = response.json()
            assert not body.get("errors"), response.text[:500]
            if "openPortfolioReview" in body["data"]:
                report["id"] = body["data"]["openPortfolioReview"]["review"]["id"]
            report[name] = {"ms": round(elapsed * 1000, 1), "statements": statements}
    report.pop("id", None)
    plugins.close()
    await engine.dispose()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an empty database; default: a fresh SQLite file")
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--kpis", type=int, default=5)
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    migrations.upgrade(url)
    token = asyncio.run(health.seed(url, args.services, args.kpis, args.months))
    print(json.dumps({"services": args.services, "kpis_per_service": args.kpis,
                      "months": args.months, **asyncio.run(measure(url, token))}, indent=2))


if __name__ == "__main__":
    main()
