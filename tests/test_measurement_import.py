"""``spm-api import measurements``: KPI values from CSV, all or nothing, every bad row
reported with the line it starts on. Runs the command as a separate process against the
test database (SQLite, then PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.engine import create_session_factory
from spm_api.domain.actor import Actor
from spm_api.domain.stewardship.kpis import KpiSpec, define_kpi
from spm_api.models import Kpi, Measurement
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import KpiDirection, KpiKind, Role
from tests.support import Org
from tests.test_finance_import import Importer, add_services

HEADER = "service,kpi,period,at,value\n"


@pytest.fixture
def run(database_url: str, db: AsyncEngine, tmp_path: Path) -> Importer:
    return Importer(database_url, tmp_path)


async def add_kpis(engine: AsyncEngine, org: Org, plugins: PluginHost,
                   *wanted: tuple[str, str, KpiKind]) -> dict[tuple[str, str], int]:
    services = await add_services(engine, org, *sorted({service for service, _, _ in wanted}))
    actor = Actor(org.person_ids[Role.PORTFOLIO_MANAGER], org.id,
                  frozenset({Role.PORTFOLIO_MANAGER}))
    found: dict[tuple[str, str], int] = {}
    async with create_session_factory(engine)() as session, session.begin():
        for service, name, kind in wanted:
            kpi = await define_kpi(session, actor, plugins, services[service], KpiSpec(
                name=name, kind=kind, direction=KpiDirection.HIGHER_IS_BETTER,
                target="99.9", warning_threshold="99.5", breach_threshold="99"))
            found[(service, name)] = kpi.id
    return found


async def measurements(engine: AsyncEngine) -> list[tuple[int, str | None, datetime,
                                                         Decimal, str]]:
    async with create_session_factory(engine)() as session:
        rows = await session.scalars(select(Measurement).order_by(Measurement.id))
        return [(row.kpi_id, row.period, row.at.astimezone(UTC), row.value, row.source)
                for row in rows]


async def count(engine: AsyncEngine) -> int:
    async with create_session_factory(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(Measurement)) or 0)


async def test_a_good_file_imports_every_row(run: Importer, db: AsyncEngine, org: Org,
                                            plugins: PluginHost) -> None:
    kpis = await add_kpis(db, org, plugins, ("Email", "Availability", KpiKind.MEASURED),
                          ("Service Desk", "Availability", KpiKind.MEASURED))
    name = run.write("kpis.csv", HEADER
                     + "Email,Availability,2026-01,,99.95\n"
                     + "Email,Availability,2026-02,,98.5\n"
                     + " Service Desk , Availability ,,2026-02-03T10:15:00Z, 99.9999 \n")

    result = await run("measurements", name, "--org", org.slug)

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "imported 3 measurements from kpis.csv\n"
    email, desk = kpis[("Email", "Availability")], kpis[("Service Desk", "Availability")]
    assert await measurements(db) == [
        (email, "2026-01", datetime(2026, 1, 1, tzinfo=UTC), Decimal("99.95"),
         "csv:kpis.csv:2"),
        (email, "2026-02", datetime(2026, 2, 1, tzinfo=UTC), Decimal("98.5"),
         "csv:kpis.csv:3"),
        (desk, None, datetime(2026, 2, 3, 10, 15, tzinfo=UTC), Decimal("99.9999"),
         "csv:kpis.csv:4"),
    ]


async def test_a_file_with_bad_rows_imports_nothing_and_lists_every_bad_line(
        run: Importer, db: AsyncEngine, org: Org, other_org: Org, plugins: PluginHost
        ) -> None:
    await add_kpis(db, org, plugins, ("Email", "Availability", KpiKind.MEASURED),
                   ("Email", "Usage", KpiKind.USAGE_VOLUME))
    await add_kpis(db, other_org, plugins, ("Payroll", "Accuracy", KpiKind.MEASURED))
    name = run.write("kpis.csv", HEADER
                     + "Email,Availability,2026-01,,99.95\n"                    # 2 fine
                     + "Email,Latency,2026-01,,120\n"                           # 3
                     + "Payroll,Accuracy,2026-01,,100\n"                        # 4
                     + "Email,Availability,2026-13,,99\n"                       # 5
                     + "Email,Availability,2026-02,,ninety\n"                   # 6
                     + "Email,Availability,2026-03,,99.12345\n"                 # 7
                     + "Email,Availability,,yesterday,99\n"                     # 8
                     + "Email,Availability,,,99\n"                              # 9
                     + "Email,Availability,2026-01,,99.1\n"                     # 10
                     + "Email,Usage,2026-01,,5\n"                               # 11
                     + "Email,Availability,2999-01,,99\n"                       # 12
                     + "Email,Availability,2026-04,,99.5\n")                    # 13 fine

    result = await run("measurements", name, "--org", org.slug)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.errors == [
        "error [VALIDATION]: line 3: the service 'Email' has no KPI named 'Latency'",
        "error [VALIDATION]: line 4: the service 'Payroll' has no KPI named 'Accuracy'",
        "error [VALIDATION]: line 5: period must be a month written YYYY-MM, like 2026-11, "
        "not '2026-13'",
        "error [VALIDATION]: line 6: value must be a number, not 'ninety'",
        "error [VALIDATION]: line 7: value has more than 4 decimals: 99.12345",
        "error [VALIDATION]: line 8: at 'yesterday' is not an instant written like "
        "2026-11-30T12:00:00Z",
        "error [VALIDATION]: line 9: give either period (a month, YYYY-MM) or at (an "
        "instant)",
        "error [VALIDATION]: line 10: 'Availability' is given a value for 2026-01 twice "
        "(also line 2)",
        "error [VALIDATION]: line 11: 'Usage' is USAGE_VOLUME, worked out from the books: "
        "its values are not recorded",
        "error [VALIDATION]: line 12: 2999-01 has not begun: measure it when it has",
    ]
    assert await count(db) == 0


async def test_a_missing_column_is_named(run: Importer, db: AsyncEngine, org: Org) -> None:
    name = run.write("kpis.csv", "service,period,value\nEmail,2026-01,99\n")
    result = await run("measurements", name, "--org", org.slug)
    assert result.returncode == 2
    assert result.errors == ["error [VALIDATION]: line 1: the header lacks kpi (it must "
                             "name service, kpi, value)"]
    async with create_session_factory(db)() as session:
        assert await session.scalar(select(func.count()).select_from(Kpi)) == 0
