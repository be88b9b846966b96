"""Benchmark: the canonical portfolio page, in process, on SQLite or PostgreSQL.

    .venv/bin/python bench/portfolio_page.py [--database-url URL] [--requests 200]

Seeds a demo organisation of 50 services into a fresh database, then times
``services(first: 50)`` with owners, requirements, stakeholder input and stage
history through the full ASGI stack (no network), printing requests/s, CPU
per request, statements per request and the size of the answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from spm_api.app import create_app
from spm_api.db import migrations
from spm_api.db.engine import create_engine, create_session_factory
from spm_api.demo import seed_demo
from spm_api.plugins.host import PluginHost
from spm_api.settings import Settings

PAGE = """{ services(first: 50) { totalCount edges { node {
  id name stage section version owner { name }
  requirements { text necessity }
  stakeholderInputs { position comment author { name } }
  stageChanges { fromStage toStage reason at actor { name } }
} } } }"""


def count_leaves(value: Any) -> int:
    if isinstance(value, dict):
        return sum(count_leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_leaves(v) for v in value)
    return 1


async def measure(url: str, requests: int) -> dict[str, Any]:
    engine = create_engine(url)
    async with create_session_factory(engine)() as session, session.begin():
        demo = await seed_demo(session, PluginHost.load(frozenset()), services=50)
    token = demo["people"][1]["token"]
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    app = create_app(Settings(database_url=url, plugins=""), engine=engine)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for _ in range(10):  # warm up caches and the connection pool
            response = await client.post("/graphql", json={"query": PAGE}, headers=headers)
        body = response.json()
        assert "errors" not in body, body
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(requests):
            await client.post("/graphql", json={"query": PAGE}, headers=headers)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await engine.dispose()
    return {
        "backend": url.split(":", 1)[0],
        "requests": requests,
        "requests_per_second": round(requests / wall, 1),
        "cpu_ms_per_request": round(1000 * cpu / requests, 2),
        "statements_per_request": statements / requests,
        "leaf_values": count_leaves(body["data"]),
        "response_bytes": len(json.dumps(body)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="an empty database; default: a fresh SQLite file")
    parser.add_argument("--postgres", action="store_true",
                        help="create and drop a PostgreSQL database at 127.0.0.1 for the run")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    cleanup = None
    if args.postgres:
        import asyncpg

        name = f"spm_bench_{uuid.uuid4().hex[:8]}"

        async def admin(sql: str) -> None:
            connection = await asyncpg.connect("postgresql://postgres@127.0.0.1/postgres")
            await connection.execute(sql)
            await connection.close()

        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        url = f"postgresql+asyncpg://postgres@127.0.0.1/{name}"
        cleanup = lambda: asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))  # noqa: E731
    elif args.database_url:
        url = args.database_url
    else:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    try:
        migrations.upgrade(url)
        print(json.dumps(asyncio.run(measure(url, args.requests)), indent=2))
    finally:
        if cleanup:
            cleanup()


if __name__ == "__main__":
    main()
