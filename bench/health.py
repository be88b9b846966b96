"""Benchmark: KPIs and health of live services, in process, on PostgreSQL (or SQLite).

    .venv/bin/python bench/health.py [--postgres | --database-url URL]
        [--services 2000] [--kpis 5] [--months 12] [--requests 20]

Bulk-seeds one organisation with ``--services`` live services, each with ``--kpis``
KPIs (all MEASURED but the last, a built-in COST_PER_UNIT over a year of costs and
usage) and ``--months`` monthly values per measured KPI, then times through the full
ASGI stack (no network), one request at a time:

- a page of 50 services with every KPI, its current value and the service's health
  with an explanation per KPI;
- ``portfolio { byHealth }``: the health of every live service, counted;
- ``services(filter: {health: [FAILING]}) { totalCount }``.

Prints for each the wall time (median, max) and the SQL statements per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, insert, select

from spm_api.app import create_app
from spm_api.db import migrations
from spm_api.db.engine import create_engine, create_session_factory
from spm_api.domain.tenancy import create_organisation, create_person
from spm_api.domain.tokens import issue_token
from spm_api.models import CostEntry, Customer, Kpi, Measurement, Service, UsageRecord
from spm_api.plugins.host import PluginHost
from spm_api.settings import Settings
from spm_api.vocabulary.enums import (
    CustomerKind,
    InvestmentCategory,
    KpiDirection,
    KpiKind,
    Role,
)
from spm_api.vocabulary.periods import Period
from spm_api.vocabulary.stages import Stage

PAGE = """{ services(first: 50) { edges { node {
  name
  kpis { name kind latest { period value } }
  health { status explanation explanations { status explanation } }
} } } }"""
COUNTS = "{ portfolio { byHealth { health count } } }"
FILTERED = "{ services(filter: {health: [FAILING]}) { totalCount } }"


async def seed(url: str, services: int, kpis: int, months: int) -> str:
    engine = create_engine(url)
    periods = [Period(2026, 11).shifted(-offset) for offset in range(months, 0, -1)]
    now = datetime.now(UTC)
    async with create_session_factory(engine)() as session, session.begin():
        organisation = await create_organisation(session, "Bench", "bench")
        person = await create_person(session, organisation.id, "Pia", "pia@bench.example",
                                     [Role.PORTFOLIO_MANAGER])
        token = await issue_token(session, person.id)
        org = organisation.id
        customer = Customer(organisation_id=org, name="Sales",
                            kind=CustomerKind.INTERNAL_DEPARTMENT)
        session.add(customer)
        await session.flush()
        await session.execute(insert(Service), [
            {"organisation_id": org, "name": f"Live {number:05d}", "summary": "",
             "objectives": "", "investment_category": InvestmentCategory.RUN,
             "stage": Stage.LIVE, "version": 1, "created_at": now, "updated_at": now}
            for number in range(services)])
        ids = list(await session.scalars(select(Service.id).where(
            Service.organisation_id == org).order_by(Service.id)))
        await session.execute(insert(Kpi), [
            {"organisation_id": org, "service_id": service_id, "name": f"KPI {index}",
             "unit": "", "kind": KpiKind.MEASURED if index < kpis - 1
             else KpiKind.COST_PER_UNIT, "direction": KpiDirection.HIGHER_IS_BETTER
             if index < kpis - 1 else KpiDirection.LOWER_IS_BETTER,
             "target": Decimal(99) if index < kpis - 1 else Decimal(10),
             "warning_threshold": Decimal(98) if index < kpis - 1 else Decimal(20),
             "breach_threshold": Decimal(97) if index < kpis - 1 else Decimal(30),
             "source": None, "source_query": "", "source_settings": {},
             "created_by_id": person.id, "created_at": now, "updated_at": now}
            for service_id in ids for index in range(kpis)])
        measured = (await session.execute(select(Kpi.id, Kpi.service_id).where(
            Kpi.organisation_id == org, Kpi.kind == KpiKind.MEASURED))).all()
        rows = [{"organisation_id": org, "kpi_id": kpi_id, "period": str(period),
                 "at": datetime(period.year, period.month, 1, tzinfo=UTC),
                 "value": Decimal(96 + (kpi_id + offset) % 4), "source": "bench",
                 "recorded_at": now}
                for kpi_id, _ in measured for offset, period in enumerate(periods)]
        for start in range(0, len(rows), 10_000):
            await session.execute(insert(Measurement), rows[start:start + 10_000])
        await session.execute(insert(CostEntry), [
            {"organisation_id": org, "service_id": service_id,
             "booked_on": date(period.year, period.month, 20), "period": str(period),
             "category": "labour", "amount": Decimal(1000 + service_id % 7 * 100),
             "description": "", "source": "bench", "created_at": now}
            for service_id in ids for period in periods])
        await session.execute(insert(UsageRecord), [
            {"organisation_id": org, "customer_id": customer.id, "service_id": service_id,
             "period": str(period), "quantity": Decimal(50 + service_id % 11 * 10),
             "unit": "GB", "source": "bench", "created_at": now}
            for service_id in ids for period in periods])
    await engine.dispose()
    return token


async def measure(url: str, token: str, requests: int) -> dict[str, Any]:
    engine = create_engine(url)
    plugins = PluginHost.load(frozenset())
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    app = create_app(Settings(database_url=url, plugins="", event_bus="memory",
                              planned_reads="on"), engine=engine, plugins=plugins)
    report: dict[str, Any] = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://bench") as http:
        for name, query in (("page of 50 with KPIs and health", PAGE),
                            ("portfolio byHealth", COUNTS),
                            ("services(filter: {health: [FAILING]})", FILTERED)):
            times: list[float] = []
            statements = 0
            for _ in range(requests):
                started = time.perf_counter()
                response = await http.post("/graphql", json={"query": query},
                                           headers={"Authorization": f"Bearer {token}"})
                times.append(time.perf_counter() - started)
                assert not response.json().get("errors"), response.text[:500]
            report[name] = {"median_ms": round(statistics.median(times) * 1000, 1),
                            "max_ms": round(max(times) * 1000, 1),
                            "statements_per_request": statements / requests}
    plugins.close()
    await engine.dispose()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an empty database; default: a fresh SQLite file")
    parser.add_argument("--postgres", action="store_true",
                        help="create and drop a PostgreSQL database at 127.0.0.1 for the run")
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--kpis", type=int, default=5)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--requests", type=int, default=20)
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
        token = asyncio.run(seed(url, args.services, args.kpis, args.months))
        report = asyncio.run(measure(url, token, args.requests))
        print(json.dumps({"services": args.services, "kpis_per_service": args.kpis,
                          "months": args.months, **report}, indent=2))
    finally:
        if cleanup:
            cleanup()


if __name__ == "__main__":
    main()
