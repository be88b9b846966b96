"""Benchmark: the finance month-end, in process, on PostgreSQL (or SQLite).

    .venv/bin/python bench/finance.py [--database-url URL] [--services 2000]
        [--customers 200] [--months 12] [--repeat 5] [--no-graphql]

Recreates the PostgreSQL database ``spm_bench_finance`` at 127.0.0.1 (or uses the
empty database at ``--database-url``), migrates it, and bulk-seeds one organisation
with a year of budget lines, cost entries and usage for every service, each service
charged by one of the built-in charging models. It then times the dry-run charging run
for one month, issuing that month's statements (rolled back after each repetition),
and the budget-vs-actual report grouped by service and by service, category and
month, printing for each the wall time (median, max), the SQL statements executed
and the memory used: Python's peak allocation (tracemalloc) and the process's maximum
resident set size so far.

Then, over GraphQL (the API in this process, as a front end asks for a finance
dashboard), ``reports { budgetVsActual }`` for the year with each row's service, by
SERVICE and by SERVICE and CATEGORY, is asked of the executor (``SPM_PLANNED_READS=off``)
and of the planned read path in turn: the CPU time per request of this process (the
server and its in-process client), the statements, and whether both answers are the same
bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from spm_api.app import create_app
from spm_api.db import migrations
from spm_api.db.base import utcnow
from spm_api.db.engine import create_engine, create_session_factory, is_sqlite
from spm_api.domain.actor import Actor
from spm_api.domain.finance.books import STANDARD_CATEGORIES, books_of
from spm_api.domain.finance.charging import compute_run
from spm_api.domain.finance.reports import Dimension, Months, budget_vs_actual
from spm_api.domain.finance.statements import issue_statements
from spm_api.domain.tokens import issue_token
from spm_api.models import (
    BudgetLine,
    ChargingPolicy,
    CostEntry,
    Customer,
    Organisation,
    Person,
    PersonRole,
    Service,
    UsageRecord,
)
from spm_api.plugins.contracts import VALIDATE_PARAMETERS
from spm_api.plugins.host import PluginHost
from spm_api.settings import Settings
from spm_api.vocabulary.enums import CustomerKind, InvestmentCategory, Role
from spm_api.vocabulary.periods import Period
from spm_api.vocabulary.stages import Stage

DEFAULT_DATABASE = "spm_bench_finance"
ADMIN_URL = "postgresql://postgres@127.0.0.1/postgres"
FIRST_MONTH = Period(2026, 1)
#: Rows per INSERT batch: large enough to amortise the round trip, small enough that
#: one batch's parameters stay far below every driver's limit.
CHUNK = 5_000
CATEGORIES = tuple(STANDARD_CATEGORIES)
UNITS = ("GB", "h", "user")

#: Every built-in charging model with parameters it accepts, assigned round robin.
POLICIES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("cost_recovery", {}),
    ("cost_plus", {"markup_percent": "10"}),
    ("fixed_price", {"price": "250.00"}),
    ("price_per_unit", {"unit_price": "0.35"}),
    ("tiered", {"tiers": [{"up_to": "100", "unit_price": "1.00"},
                          {"up_to": None, "unit_price": "0.80"}]}),
    ("showback", {}),
    ("none", {}),
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Scale:
    services: int
    customers: int
    months: int
    customers_per_service: int

    def periods(self) -> list[Period]:
        return [FIRST_MONTH.shifted(offset) for offset in range(self.months)]


# --- the database -----------------------------------------------------------------------


async def _admin(sql: str) -> None:
    """Run one statement on the server's maintenance database (CREATE/DROP DATABASE
    cannot run inside the benchmark database itself)."""
    import asyncpg

    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def fresh_database(url: str | None) -> str:
    """The URL of an empty database: the default PostgreSQL one dropped and recreated,
    so every run starts from the same state; a SQLite file is deleted first; any other
    URL is taken as given (it must be empty)."""
    if url is None:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{DEFAULT_DATABASE}" WITH (FORCE)'))
        asyncio.run(_admin(f'CREATE DATABASE "{DEFAULT_DATABASE}"'))
        return f"postgresql+asyncpg://postgres@127.0.0.1/{DEFAULT_DATABASE}"
    if is_sqlite(url) and ":///" in url:
        path = Path(url.split(":///", 1)[1])
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
    return url


# --- seeding ----------------------------------------------------------------------------


def chunks(rows: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


async def bulk_insert(session: AsyncSession, model: type[Any], rows: Iterable[dict[str, Any]]
                      ) -> None:
    """Core executemany in chunks from a generator: no ORM objects and never more than
    one chunk of rows in memory, so seeding 300,000 rows takes seconds and leaves the
    process's memory high-water mark to the operations being measured."""
    for chunk in chunks(rows):
        await session.execute(insert(model), chunk)


async def seed_people(session: AsyncSession) -> Actor:
    """The organisation and its finance person, who issues statements."""
    organisation_id = await session.scalar(
        insert(Organisation).values(name="Bench Finance", slug="bench-finance",
                                    currency="EUR", created_at=utcnow())
        .returning(Organisation.id))
    person_id = await session.scalar(
        insert(Person).values(organisation_id=organisation_id, name="Fin Ance",
                              email="finance@bench.example", created_at=utcnow())
        .returning(Person.id))
    assert organisation_id is not None and person_id is not None
    await session.execute(insert(PersonRole).values(person_id=person_id, role=Role.FINANCE))
    return Actor(person_id, organisation_id, frozenset({Role.FINANCE}))


async def seed_services(session: AsyncSession, actor: Actor, scale: Scale) -> list[int]:
    """Services across every stage and investment category, as a real portfolio has."""
    stages, categories = list(Stage), list(InvestmentCategory)
    now = utcnow()
    await bulk_insert(session, Service, [
        {"organisation_id": actor.organisation_id, "name": f"Service {index:05d}",
         "owner_id": actor.person_id, "investment_category": categories[index % 3],
         "stage": stages[index % len(stages)], "version": 1,
         "estimated_cost": Decimal(10_000 + index), "created_at": now, "updated_at": now}
        for index in range(scale.services)])
    return list(await session.scalars(
        select(Service.id).where(Service.organisation_id == actor.organisation_id)
        .order_by(Service.id)))


async def seed_customers(session: AsyncSession, actor: Actor, scale: Scale) -> list[int]:
    kinds = list(CustomerKind)
    await bulk_insert(session, Customer, [
        {"organisation_id": actor.organisation_id, "name": f"Customer {index:04d}",
         "kind": kinds[index % 2]}
        for index in range(scale.customers)])
    return list(await session.scalars(
        select(Customer.id).where(Customer.organisation_id == actor.organisation_id)
        .order_by(Customer.id)))


async def seed_policies(session: AsyncSession, actor: Actor, plugins: PluginHost,
                        services: Sequence[int]) -> None:
    """Every service gets a policy, the models in turn; parameters go through the
    models' own validation so they are stored exactly as the API would store them."""
    normalised = [(model, plugins.check(VALIDATE_PARAMETERS, model, parameters))
                  for model, parameters in POLICIES]
    now = utcnow()
    await bulk_insert(session, ChargingPolicy, [
        {"service_id": service_id, "organisation_id": actor.organisation_id,
         "model": normalised[index % len(normalised)][0],
         "parameters": normalised[index % len(normalised)][1],
         "updated_by_id": actor.person_id, "updated_at": now}
        for index, service_id in enumerate(services)])


def budget_rows(actor: Actor, services: Sequence[int], scale: Scale, rng: random.Random
                ) -> Iterator[dict[str, Any]]:
    """Two or three budget categories per service and month."""
    now = utcnow()
    return (
        {"organisation_id": actor.organisation_id, "service_id": service_id,
         "period": str(period), "category": category,
         "amount": Decimal(rng.randrange(50_000, 500_000)) / 100,
         "updated_by_id": actor.person_id, "updated_at": now}
        for index, service_id in enumerate(services)
        for period in scale.periods()
        for category in CATEGORIES[index % 4:index % 4 + 2 + index % 2]
    )


def cost_rows(actor: Actor, services: Sequence[int], scale: Scale, rng: random.Random
              ) -> Iterator[dict[str, Any]]:
    """About three actual cost entries per service and month, some in a category
    without budget, so the report has rows on one side only."""
    now = utcnow()
    return (
        {"organisation_id": actor.organisation_id, "service_id": service_id,
         "booked_on": date(period.year, period.month, 1 + entry * 9),
         "period": str(period), "category": CATEGORIES[(index + entry) % len(CATEGORIES)],
         "amount": Decimal(rng.randrange(10_000, 400_000)) / 100,
         "description": "bench", "source": "bench", "created_at": now}
        for index, service_id in enumerate(services)
        for period in scale.periods()
        for entry in range(3)
    )


def usage_rows(actor: Actor, services: Sequence[int], customers: Sequence[int],
               scale: Scale, rng: random.Random) -> Iterator[dict[str, Any]]:
    """Each service used by a different handful of customers every month, quantities
    spanning the tiered model's first tier."""
    now = utcnow()
    per_service = min(scale.customers_per_service, len(customers))
    return (
        {"organisation_id": actor.organisation_id, "customer_id": customer_id,
         "service_id": service_id, "period": str(period),
         "quantity": Decimal(rng.randrange(100, 50_000)) / 100,
         "unit": UNITS[index % len(UNITS)], "source": "bench", "created_at": now}
        for index, service_id in enumerate(services)
        for period in scale.periods()
        for customer_id in rng.sample(customers, per_service)
    )


async def seed(factory: async_sessionmaker[AsyncSession], plugins: PluginHost, scale: Scale
               ) -> Actor:
    """Everything the month-end reads, in one transaction; prints the row counts."""
    rng = random.Random(20261)
    started = time.perf_counter()
    async with factory() as session, session.begin():
        actor = await seed_people(session)
        services = await seed_services(session, actor, scale)
        customers = await seed_customers(session, actor, scale)
        await seed_policies(session, actor, plugins, services)
        await bulk_insert(session, BudgetLine, budget_rows(actor, services, scale, rng))
        await bulk_insert(session, CostEntry, cost_rows(actor, services, scale, rng))
        await bulk_insert(session, UsageRecord,
                          usage_rows(actor, services, customers, scale, rng))
    async with factory() as session, session.begin():
        # Fresh bulk-loaded tables have no statistics until autovacuum gets to them; a
        # live database has them, and without them the planner guesses one row a table.
        await session.execute(text("ANALYZE"))
    async with factory() as session:
        print(f"seeded and analysed in {time.perf_counter() - started:.1f} s:")
        for model in (Service, Customer, ChargingPolicy, BudgetLine, CostEntry,
                      UsageRecord):
            count = await session.scalar(select(func.count()).select_from(model))
            print(f"  {model.__tablename__:<16} {count:>9,}")
    return actor


# --- measuring --------------------------------------------------------------------------


class StatementCounter:
    """Counts the statements sent to the database while ``active``: a count that stays
    the same as the data grows shows the work is aggregated in SQL, not row by row."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.active = False
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        if self.active:
            self.count += 1


@dataclass(frozen=True, slots=True)
class Figures:
    name: str
    wall: list[float]
    statements: list[int]
    rows: int
    traced_peak: int
    max_rss: int


def max_rss_bytes() -> int:
    """The process's maximum resident set size so far (kilobytes on Linux, bytes on
    macOS): it only grows, so it shows the high-water mark up to this operation."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


Operation = Callable[[AsyncSession], Awaitable[int]]


async def once(factory: async_sessionmaker[AsyncSession], counter: StatementCounter,
               operation: Operation) -> tuple[float, int, int]:
    """One run of ``operation`` in its own transaction, rolled back afterwards so the
    next repetition (and operation) finds the same data. Returns wall seconds,
    statements and the rows the operation produced."""
    async with factory() as session:
        await session.begin()
        counter.count, counter.active = 0, True
        started = time.perf_counter()
        rows = await operation(session)
        wall = time.perf_counter() - started
        counter.active = False
        await session.rollback()
    return wall, counter.count, rows


async def timed(factory: async_sessionmaker[AsyncSession], counter: StatementCounter,
                name: str, operation: Operation, repeat: int) -> Figures:
    """Time ``repeat`` runs after one warm-up; the memory high-water mark is read
    straight after, before any run under tracemalloc (whose bookkeeping would count)."""
    await once(factory, counter, operation)
    walls, statements = [], []
    rows = 0
    for _ in range(repeat):
        wall, count, rows = await once(factory, counter, operation)
        walls.append(wall)
        statements.append(count)
    return Figures(name, walls, statements, rows, 0, max_rss_bytes())


async def traced_peak(factory: async_sessionmaker[AsyncSession], counter: StatementCounter,
                      operation: Operation) -> int:
    """Python's peak allocation during one more run, under tracemalloc: tracing slows
    Python down several times, so it never overlaps the timed runs."""
    tracemalloc.start()
    try:
        await once(factory, counter, operation)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def operations(actor: Actor, plugins: PluginHost, scale: Scale
               ) -> list[tuple[str, Operation]]:
    """The month-end a finance team runs: check the charges, issue them, compare the
    year's budget with what was spent."""
    month = scale.periods()[-1]
    year = Months(scale.periods()[0], month)

    async def dry_run(session: AsyncSession) -> int:
        books = await books_of(session, actor.organisation_id)
        return len((await compute_run(session, books, plugins, month)).lines)

    async def issue(session: AsyncSession) -> int:
        run, _statements = await issue_statements(session, actor, plugins, str(month))
        return len(run.lines)

    def report(*group_by: Dimension) -> Operation:
        async def run(session: AsyncSession) -> int:
            return len(await budget_vs_actual(session, actor, year, group_by))
        return run

    return [
        (f"dry-run charging {month}", dry_run),
        (f"issue statements {month}", issue),
        ("budget vs actual by SERVICE", report(Dimension.SERVICE)),
        ("budget vs actual by SERVICE, CATEGORY, PERIOD",
         report(Dimension.SERVICE, Dimension.CATEGORY, Dimension.PERIOD)),
    ]


def print_figures(figures: Sequence[Figures]) -> None:
    mib = 1024 * 1024
    print(f"\n{'operation':<46} {'rows':>7} {'median s':>9} {'max s':>7} "
          f"{'statements':>10} {'py peak MiB':>11} {'max RSS MiB':>11}")
    for item in figures:
        counts = sorted(set(item.statements))
        statements = "/".join(str(count) for count in counts)
        print(f"{item.name:<46} {item.rows:>7,} {statistics.median(item.wall):>9.3f} "
              f"{max(item.wall):>7.3f} {statements:>10} {item.traced_peak / mib:>11.1f} "
              f"{item.max_rss / mib:>11.1f}")


DASHBOARD = """query($from: String!, $to: String!, $groupBy: [ReportDimension!]) {
  reports { budgetVsActual(fromPeriod: $from, toPeriod: $to, groupBy: $groupBy) {
    rows { category budget { amount currency } actual { amount } variance { amount }
           variancePercent service { id name stage investmentCategory } }
    total { budget { amount } actual { amount } variance { amount } } } }
}"""


async def over_graphql(url: str, engine: AsyncEngine, plugins: PluginHost, actor: Actor,
                       scale: Scale, counter: StatementCounter, repeat: int) -> None:
    """The report as a front end asks for it, by the executor and by the plan."""
    async with create_session_factory(engine)() as session, session.begin():
        token = await issue_token(session, actor.person_id)
    periods = scale.periods()
    asked = {"by SERVICE": ["SERVICE"], "by SERVICE, CATEGORY": ["SERVICE", "CATEGORY"]}
    results: dict[tuple[str, str], tuple[float, int, int, str]] = {}
    for mode in ("off", "on"):
        settings = Settings(database_url=url, plugins="", event_bus="memory",
                            planned_reads=mode)
        app = create_app(settings, engine=engine, plugins=plugins)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://bench", timeout=300) as http:
            for label, group_by in asked.items():
                body = {"query": DASHBOARD, "variables": {
                    "from": str(periods[0]), "to": str(periods[-1]), "groupBy": group_by}}
                headers = {"Authorization": f"Bearer {token}"}
                await http.post("/graphql", json=body, headers=headers)  # warm-up
                cpu: list[float] = []
                for _ in range(repeat):
                    counter.count, counter.active = 0, True
                    started = time.process_time()
                    response = await http.post("/graphql", json=body, headers=headers)
                    cpu.append(time.process_time() - started)
                    counter.active = False
                answer = response.json()
                assert not answer.get("errors"), response.text[:300]
                rows = len(answer["data"]["reports"]["budgetVsActual"]["rows"])
                results[(mode, label)] = (statistics.median(cpu), counter.count, rows,
                                          hashlib.sha256(response.content).hexdigest()[:12])
    print(f"\n{'over GraphQL: budgetVsActual':<34} {'rows':>6} {'executor ms':>11} "
          f"{'planned ms':>10} {'ratio':>6} {'statements':>10} {'same answer':>11}")
    for label in asked:
        executor, planned = results[("off", label)], results[("on", label)]
        print(f"{label:<34} {planned[2]:>6,} {1000 * executor[0]:>11.1f} "
              f"{1000 * planned[0]:>10.1f} {planned[0] / executor[0]:>6.2f} "
              f"{executor[1]:>4}/{planned[1]:<5} {executor[3] == planned[3]!s:>11}")


async def run(url: str, scale: Scale, repeat: int, graphql: bool = True) -> None:
    engine = create_engine(url)
    factory = create_session_factory(engine)
    # A generous time limit: under tracemalloc each model call runs several times slower.
    plugins = PluginHost.load(frozenset(), timeout=60.0)
    try:
        actor = await seed(factory, plugins, scale)
        counter = StatementCounter(engine)
        print(f"max RSS after seeding: {max_rss_bytes() / 1024 / 1024:.1f} MiB")
        measured = operations(actor, plugins, scale)
        figures = [await timed(factory, counter, name, operation, repeat)
                   for name, operation in measured]
        figures = [replace(item, traced_peak=await traced_peak(factory, counter, operation))
                   for item, (_, operation) in zip(figures, measured, strict=True)]
        print_figures(figures)
        print("(issue statements: rows = statement lines written; the issue, like every "
              "repetition, is rolled back)")
        if graphql:
            await over_graphql(url, engine, plugins, actor, scale, counter, repeat)
    finally:
        plugins.close()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url",
                        help="an empty database (a SQLite file is recreated); default: "
                             f"recreate {DEFAULT_DATABASE} on PostgreSQL at 127.0.0.1")
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--customers-per-service", type=int, default=10,
                        help="customers using each service in each month")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per operation")
    parser.add_argument("--no-graphql", dest="graphql", action="store_false",
                        help="leave out the report over GraphQL")
    args = parser.parse_args()
    scale = Scale(args.services, args.customers, args.months, args.customers_per_service)
    url = fresh_database(args.database_url)
    migrations.upgrade(url)
    started = time.perf_counter()
    asyncio.run(run(url, scale, args.repeat, args.graphql))
    print(f"total {time.perf_counter() - started:.1f} s on {url.split(':', 1)[0]}")


if __name__ == "__main__":
    main()
