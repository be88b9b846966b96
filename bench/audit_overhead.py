"""Benchmark: what recording the audit trail adds to a mutation.

    .venv/bin/python bench/audit_overhead.py [--database-url URL] [--repeat 200]

Uses the empty, migrated database at ``--database-url`` (default: a fresh SQLite file),
seeds one organisation with an admin and a service, then sends ``updateService``
(a new name each time) over the in-process ASGI app ``--repeat`` times with the trail
recorded, and as many times with ``audit.record`` replaced by a no-op, alternating in
rounds so that both see the same machine. Prints the median wall time per mutation and
the SQL statements per mutation for each.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event
from strawberry import relay

from spm_api.app import create_app
from spm_api.db import migrations
from spm_api.db.engine import create_engine, create_session_factory
from spm_api.domain import audit
from spm_api.domain.actor import Actor
from spm_api.domain.portfolio.services import create_service
from spm_api.domain.tenancy import create_organisation, create_person
from spm_api.domain.tokens import issue_token
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import InvestmentCategory, Role

UPDATE = """
mutation($input: UpdateServiceInput!) {
  updateService(input: $input) { service { version } errors { code } }
}"""


async def run(url: str, repeat: int) -> None:
    engine = create_engine(url)
    async with create_session_factory(engine)() as session, session.begin():
        organisation = await create_organisation(session, "Bench", "bench")
        admin = await create_person(session, organisation.id, "Admin", "admin@bench.example",
                                    [Role.ADMIN])
        token = await issue_token(session, admin.id)
        actor = Actor(admin.id, organisation.id, frozenset({Role.ADMIN}))
        service = await create_service(session, actor, name="Bench",
                                       investment_category=InvestmentCategory.RUN)
        service_id = service.id
    global_id = str(relay.GlobalID("Service", str(service_id)))

    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    settings = Settings(database_url=url, plugins="", event_bus="memory")
    plugins = PluginHost.load(frozenset(), timeout=2.0)
    bus = EventBus("memory://")
    app = create_app(settings, engine=engine, plugins=plugins, bus=bus)
    recording = audit.record
    times: dict[str, list[float]] = {"recorded": [], "not recorded": []}
    counts: dict[str, list[int]] = {"recorded": [], "not recorded": []}
    headers = {"Authorization": f"Bearer {token}"}
    number = 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://bench") as http:
        for _round in range(repeat // 20):
            for mode in ("recorded", "not recorded"):
                audit.record = recording if mode == "recorded" else (  # type: ignore[assignment]
                    lambda *_args, **_kwargs: None)
                for _ in range(20):
                    number += 1
                    before, started = statements, time.perf_counter()
                    response = await http.post("/graphql", headers=headers, json={
                        "query": UPDATE,
                        "variables": {"input": {"serviceId": global_id,
                                                "name": f"Bench {number}"}}})
                    times[mode].append(time.perf_counter() - started)
                    counts[mode].append(statements - before)
                    assert response.json()["data"]["updateService"]["errors"] == []
    audit.record = recording  # type: ignore[assignment]
    for mode in times:
        print(f"{mode:>13}: {statistics.median(times[mode]) * 1000:.2f} ms median, "
              f"{statistics.median(counts[mode]):.0f} SQL statements per mutation "
              f"({len(times[mode])} mutations)")
    await bus.disconnect()
    plugins.close()
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        path = Path(tempfile.mkdtemp()) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        migrations.upgrade(url)
    asyncio.run(run(url, args.repeat))


if __name__ == "__main__":
    main()
