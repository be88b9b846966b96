"""``spm-api import costs|usage``: CSV files imported all or nothing, every bad row
reported with the line it starts on. Runs the command as a separate process against the
test database (SQLite, then PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.engine import create_session_factory
from spm_api.domain.actor import Actor
from spm_api.domain.finance.imports import COST_COLUMNS, read_csv
from spm_api.domain.portfolio.services import create_service
from spm_api.models import ClosedPeriod, CostEntry, Customer, UsageRecord
from spm_api.vocabulary.enums import CustomerKind, InvestmentCategory, Role
from spm_api.vocabulary.errors import DomainError
from tests.support import Org

COST_HEADER = "service,date,category,amount,currency,description\n"
USAGE_HEADER = "customer,service,period,quantity,unit\n"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def errors(self) -> list[str]:
        return self.stderr.splitlines()


@dataclass
class Importer:
    """``spm-api import`` bound to the test database, run from a scratch folder."""

    database_url: str
    cwd: Path

    def write(self, name: str, text: str) -> str:
        (self.cwd / name).write_bytes(text.encode())
        return name

    async def __call__(self, *arguments: str, stdin: bytes | None = None) -> Run:
        env = {**os.environ, "SPM_DATABASE_URL": self.database_url, "SPM_PLUGINS": ""}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "spm_api.cli", "import", *arguments,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, cwd=self.cwd)
        stdout, stderr = await asyncio.wait_for(process.communicate(stdin or b""), timeout=120)
        assert process.returncode is not None
        run = Run(process.returncode, stdout.decode(), stderr.decode())
        assert "Traceback" not in run.stderr, run.stderr
        return run


@pytest.fixture
def run(database_url: str, db: AsyncEngine, tmp_path: Path) -> Importer:
    return Importer(database_url, tmp_path)


async def add_services(engine: AsyncEngine, org: Org, *names: str) -> dict[str, int]:
    actor = Actor(org.person_ids[Role.CONTRIBUTOR], org.id, frozenset({Role.CONTRIBUTOR}))
    async with create_session_factory(engine)() as session, session.begin():
        return {name: (await create_service(session, actor, name=name,
                                            investment_category=InvestmentCategory.RUN)).id
                for name in names}


async def add_customers(engine: AsyncEngine, org: Org, *names: str) -> dict[str, int]:
    async with create_session_factory(engine)() as session, session.begin():
        customers = [Customer(organisation_id=org.id, name=name,
                              kind=CustomerKind.INTERNAL_DEPARTMENT) for name in names]
        session.add_all(customers)
        await session.flush()
        return {customer.name: customer.id for customer in customers}


async def close_month(engine: AsyncEngine, org: Org, period: str) -> None:
    async with create_session_factory(engine)() as session, session.begin():
        session.add(ClosedPeriod(organisation_id=org.id, period=period,
                                 closed_by_id=org.person_ids[Role.FINANCE]))


async def costs(engine: AsyncEngine, org: Org) -> list[CostEntry]:
    async with create_session_factory(engine)() as session:
        return list(await session.scalars(select(CostEntry)
                                          .where(CostEntry.organisation_id == org.id)
                                          .order_by(CostEntry.booked_on, CostEntry.id)))


async def usage(engine: AsyncEngine, org: Org) -> list[UsageRecord]:
    async with create_session_factory(engine)() as session:
        return list(await session.scalars(select(UsageRecord)
                                          .where(UsageRecord.organisation_id == org.id)
                                          .order_by(UsageRecord.period, UsageRecord.id)))


async def count(engine: AsyncEngine, model: type[CostEntry] | type[UsageRecord]) -> int:
    async with create_session_factory(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_good_costs_file_imports_every_row(run: Importer, db: AsyncEngine, org: Org
                                                  ) -> None:
    services = await add_services(db, org, "Service Desk", "Email")
    name = run.write("costs-2026.csv", COST_HEADER
                     + "Service Desk,2026-01-15,labour,1250.50,EUR,January support\n"  # 2
                     + 'Email,2026-01-31,Software,99.99,,"licences,\n'                 # 3
                     + 'renewed for ""all"" staff"\n'                                  # 4
                     + "Email,2026-02-01,hardware,-200.00,eur,credit note\n"           # 5
                     + " Service Desk , 2026-03-02 , contractor , 0.01 , EUR , \n")    # 6

    result = await run("costs", name, "--org", org.slug)

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "imported 4 cost entries from costs-2026.csv\n"
    entries = await costs(db, org)
    assert [(e.service_id, e.booked_on, e.period, e.category, e.amount, e.description,
             e.source) for e in entries] == [
        (services["Service Desk"], date(2026, 1, 15), "2026-01", "labour", Decimal("1250.50"),
         "January support", "csv:costs-2026.csv:2"),
        (services["Email"], date(2026, 1, 31), "2026-01", "software", Decimal("99.99"),
         'licences,\nrenewed for "all" staff', "csv:costs-2026.csv:3"),
        (services["Email"], date(2026, 2, 1), "2026-02", "hardware", Decimal("-200"),
         "credit note", "csv:costs-2026.csv:5"),
        (services["Service Desk"], date(2026, 3, 2), "2026-03", "contractor",
         Decimal("0.01"), "", "csv:costs-2026.csv:6"),
    ]
    assert all(type(entry.amount) is Decimal for entry in entries)
    assert sum((entry.amount for entry in entries), Decimal(0)) == Decimal("1150.50")


async def test_every_bad_row_is_reported_by_line_and_nothing_is_imported(
        run: Importer, db: AsyncEngine, org: Org) -> None:
    await add_services(db, org, "Service Desk")
    name = run.write("costs.csv", COST_HEADER
                     + "Service Desk,2026-01-15,labour,1250.50,EUR,fine\n"       # 2
                     + 'Service Desk,2026-01-16,labour,10.00,EUR,"three\n'       # 3
                     + "physical\n"                                              # 4
                     + 'lines"\n'                                                # 5
                     + "Ghost Service,2026-01-17,labour,1.00,EUR,\n"             # 6
                     + "Service Desk,2026-13-01,labour,1.00,EUR,\n"              # 7
                     + "Service Desk,2026-01-18,labour,5.00,EUR,fine\n"          # 8
                     + "Service Desk,2026-01-19,travel,1.00,EUR,\n"              # 9
                     + "Service Desk,2026-01-20,labour,12.345,EUR,\n"            # 10
                     + "Service Desk,2026-01-21,labour,100.00,USD,\n"            # 11
                     + "Service Desk,2026-01-22,labour,twelve,EUR,\n"            # 12
                     + "Service Desk,2026-01-23,labour,7.00,EUR,fine\n")         # 13

    result = await run("costs", name, "--org", org.slug)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.errors == [
        "error [VALIDATION]: line 6: no service named 'Ghost Service'",
        "error [VALIDATION]: line 7: date '2026-13-01' is not a date written YYYY-MM-DD",
        "error [VALIDATION]: line 9: no cost category 'travel'",
        "error [VALIDATION]: line 10: amount has more decimals than EUR has (its smallest "
        "unit is 0.01)",
        "error [VALIDATION]: line 11: amount is in USD, but this organisation keeps its "
        "books in EUR; convert it first",
        "error [VALIDATION]: line 12: amount must be a decimal number, not 'twelve'",
    ]
    assert await count(db, CostEntry) == 0


async def test_a_missing_column_is_named_and_nothing_is_imported(
        run: Importer, db: AsyncEngine, org: Org) -> None:
    await add_services(db, org, "Service Desk")
    name = run.write("costs.csv", "service,date,amount\nService Desk,2026-01-15,1.00\n")

    result = await run("costs", name, "--org", org.slug)

    assert result.returncode == 2
    assert result.errors == ["error [VALIDATION]: line 1: the header lacks category (it must "
                             "name service, date, category, amount)"]
    assert await count(db, CostEntry) == 0


async def test_usage_imports_every_good_row(run: Importer, db: AsyncEngine, org: Org) -> None:
    services = await add_services(db, org, "Service Desk", "Email")
    customers = await add_customers(db, org, "Finance Dept", "Sales")
    name = run.write("usage.csv", USAGE_HEADER
                     + "Finance Dept,Service Desk,2026-01,42,tickets\n"
                     + "Sales,Email,2026-02,120.5,mailboxes\n"
                     + "Sales,Service Desk,2026-02,0,tickets\n")

    result = await run("usage", name, "--org", org.slug)

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "imported 3 usage records from usage.csv\n"
    assert [(r.customer_id, r.service_id, r.period, r.quantity, r.unit, r.source)
            for r in await usage(db, org)] == [
        (customers["Finance Dept"], services["Service Desk"], "2026-01", Decimal(42),
         "tickets", "csv:usage.csv:2"),
        (customers["Sales"], services["Email"], "2026-02", Decimal("120.5"), "mailboxes",
         "csv:usage.csv:3"),
        (customers["Sales"], services["Service Desk"], "2026-02", Decimal(0), "tickets",
         "csv:usage.csv:4"),
    ]


async def test_bad_usage_rows_are_reported_by_line(run: Importer, db: AsyncEngine, org: Org
                                                  ) -> None:
    await add_services(db, org, "Service Desk")
    await add_customers(db, org, "Sales")
    name = run.write("usage.csv", USAGE_HEADER
                     + "Sales,Service Desk,2026-01,42,tickets\n"        # 2
                     + "Nobody,Service Desk,2026-01,1,tickets\n"        # 3
                     + "Sales,Service Desk,2026-13,1,tickets\n"         # 4
                     + "Sales,Service Desk,2026-02,-5,tickets\n"        # 5
                     + "Sales,Service Desk,2026-02,3,tickets\n")        # 6

    result = await run("usage", name, "--org", org.slug)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.errors == [
        "error [VALIDATION]: line 3: no customer named 'Nobody'",
        "error [VALIDATION]: line 4: period must be a month written YYYY-MM, like 2026-11, "
        "not '2026-13'",
        "error [VALIDATION]: line 5: quantity must be a number from 0 to 99999999999999",
    ]
    assert await count(db, UsageRecord) == 0


async def test_a_closed_month_refuses_its_rows(run: Importer, db: AsyncEngine, org: Org
                                              ) -> None:
    await add_services(db, org, "Service Desk")
    await add_customers(db, org, "Sales")
    await close_month(db, org, "2026-01")
    cost_file = run.write("costs.csv", COST_HEADER
                          + "Service Desk,2026-02-01,labour,1.00,EUR,\n"
                          + "Service Desk,2026-01-31,labour,1.00,EUR,\n")
    usage_file = run.write("usage.csv", USAGE_HEADER
                           + "Sales,Service Desk,2026-02,1,tickets\n"
                           + "Sales,Service Desk,2026-01,1,tickets\n")

    cost_result = await run("costs", cost_file, "--org", org.slug)
    usage_result = await run("usage", usage_file, "--org", org.slug)

    assert cost_result.returncode == usage_result.returncode == 2
    assert cost_result.errors == [
        "error [VALIDATION]: line 3: 2026-01 is closed; book corrections in an open month"]
    assert usage_result.errors == [
        "error [VALIDATION]: line 3: 2026-01 is closed; record usage in an open month"]
    assert await count(db, CostEntry) == await count(db, UsageRecord) == 0


async def test_stdin_with_a_byte_order_mark_and_crlf_lines(run: Importer, db: AsyncEngine,
                                                          org: Org) -> None:
    services = await add_services(db, org, "Service Desk")
    text = ("\ufeffservice,date,category,amount,currency,description\r\n"
            'Service Desk,2026-01-15,labour,"1250.50"\r\n'
            'Service Desk,2026-01-16,labour,2.00,,"two\r\nlines"\r\n'
            "Service Desk,2026-01-17,labour,3.00\r\n")

    result = await run("costs", "-", "--org", org.slug, stdin=text.encode())

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "imported 3 cost entries from stdin\n"
    desk = services["Service Desk"]
    assert [(e.service_id, e.amount, e.description, e.source)
            for e in await costs(db, org)] == [
        (desk, Decimal("1250.50"), "", "csv:stdin:2"),
        (desk, Decimal("2.00"), "two\nlines", "csv:stdin:3"),
        (desk, Decimal("3.00"), "", "csv:stdin:5"),
    ]


async def test_an_unknown_org_is_a_clear_error(run: Importer, db: AsyncEngine, org: Org
                                              ) -> None:
    name = run.write("costs.csv", COST_HEADER + "Service Desk,2026-01-15,labour,1,EUR,\n")

    result = await run("costs", name, "--org", "nowhere")

    assert result.returncode == 2
    assert result.errors == ["error [NOT_FOUND]: no organisation 'nowhere'"]
    assert result.stdout == ""


async def test_unreadable_files_are_clear_errors(run: Importer, db: AsyncEngine, org: Org
                                                ) -> None:
    missing = await run("costs", "missing.csv", "--org", org.slug)
    assert missing.returncode == 2
    assert missing.errors == [
        "error [VALIDATION]: cannot read missing.csv: No such file or directory"]

    (run.cwd / "latin1.csv").write_bytes(COST_HEADER.encode() + b"Caf\xe9,2026-01-01,other,1,,\n")
    latin1 = await run("costs", "latin1.csv", "--org", org.slug)
    assert latin1.returncode == 2
    assert latin1.errors == ["error [VALIDATION]: latin1.csv is not UTF-8 text (byte 54 is "
                             "0xe9)"]

    huge = run.write("huge.csv", COST_HEADER + f"x,2026-01-01,other,1,,{'x' * 200_000}\n")
    too_large = await run("costs", huge, "--org", org.slug)
    assert too_large.returncode == 2
    assert too_large.errors == ["error [VALIDATION]: line 2: the file is not valid CSV (field "
                                "larger than field limit (131072))"]
    assert await count(db, CostEntry) == 0


def test_read_csv_numbers_rows_by_the_physical_line_they_start_on() -> None:
    rows = read_csv('service,date,category,amount\n'
                    'A,2026-01-01,labour,"1"\n'       # 2
                    'B,2026-01-02,labour,"2\n\n3"\n'  # 3-5: a field with a blank line
                    ',,,\n'                           # 6: an empty row is skipped
                    'C,2026-01-03,labour,4\n',        # 7
                    COST_COLUMNS)
    assert [(row.line, row.get("service")) for row in rows] == [(2, "A"), (3, "B"), (7, "C")]


def test_read_csv_counts_blank_lines() -> None:
    rows = read_csv("service,date,category,amount\n"
                    "A,2026-01-01,labour,1\n"   # 2
                    "\n"                        # 3
                    "C,2026-01-03,labour,4\n",  # 4
                    COST_COLUMNS)
    assert [(row.line, row.get("service")) for row in rows] == [(2, "A"), (4, "C")]


def test_read_csv_names_every_missing_column() -> None:
    with pytest.raises(DomainError) as raised:
        read_csv("Service , Amount\n", COST_COLUMNS)
    assert [(p.field, p.message) for p in raised.value.problems] == [
        ("line 1", "line 1: the header lacks date, category (it must name service, date, "
                   "category, amount)")]


def test_read_csv_refuses_an_unterminated_quote_instead_of_swallowing_the_rest() -> None:
    with pytest.raises(DomainError) as raised:
        read_csv('service,date,category,amount,description\n'
                 'A,2026-01-01,labour,1,"oops\n'
                 'B,2026-01-02,labour,2,fine\n', COST_COLUMNS)
    [problem] = raised.value.problems
    assert problem.message.startswith("line ") and "not valid CSV" in problem.message


def test_read_csv_refuses_control_characters_and_ignores_a_byte_order_mark() -> None:
    with pytest.raises(DomainError) as raised:
        read_csv("\ufeffservice,date,category,amount\n"
                 "A,2026-01-01,labour,1\n"
                 "B\x00,2026-01-02,labour,2\n", COST_COLUMNS)
    [problem] = raised.value.problems
    assert problem.message == "line 3: contains a control character"
