"""Bulk import of cost entries and usage from CSV: every bad row is reported with its
line number, and nothing is imported unless every row is good."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain import audit
from spm_api.domain.actor import Actor
from spm_api.domain.finance.accounting import period_of, quantity, unit
from spm_api.domain.finance.books import Books, books_of, closed_periods, cost_categories
from spm_api.domain.finance.service_end import ended_before
from spm_api.models import CostEntry, Customer, Service, UsageRecord
from spm_api.vocabulary.audit import AuditAction, AuditEntity
from spm_api.vocabulary.errors import DomainError, ErrorCode, Problem
from spm_api.vocabulary.money import Money
from spm_api.vocabulary.periods import Period

COST_COLUMNS = ("service", "date", "category", "amount")
COST_OPTIONAL = ("currency", "description")
USAGE_COLUMNS = ("customer", "service", "period", "quantity", "unit")

#: Characters no field may hold; tab, newline and carriage return are allowed.
CONTROL_CHARACTERS = frozenset(chr(code) for code in range(32) if chr(code) not in "\t\n\r")

#: Beyond this many bad rows the rest are counted, not listed.
MAX_REPORTED = 100


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return (self.values.get(column) or "").strip()


class RowError(ValueError):
    """What is wrong with one value of a row, in words for the person who wrote it."""


def read_csv(text: str, required: tuple[str, ...]) -> list[Row]:
    """The rows of a CSV file with a header line, each with the physical line it starts
    on (blank lines and multi-line quoted fields counted)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")), strict=True)
    rows: list[Row] = []
    header: list[str] | None = None
    line = 1
    try:
        for record in reader:
            if header is None:
                header = [name.strip().lower() for name in record]
                _check_header(header, required)
            elif any(value.strip() for value in record):
                _check_text(record, line)
                rows.append(Row(line, dict(zip(header, record, strict=False))))
            line = reader.line_num + 1
    except csv.Error as error:
        raise DomainError(Problem(ErrorCode.VALIDATION,
                                  f"line {reader.line_num}: the file is not valid CSV "
                                  f"({error})", f"line {reader.line_num}")) from None
    if header is None:
        _check_header([], required)
    return rows


def _check_header(header: list[str], required: tuple[str, ...]) -> None:
    missing = [column for column in required if column not in header]
    if missing:
        raise DomainError(Problem(ErrorCode.VALIDATION,
                                  f"line 1: the header lacks {', '.join(missing)} (it must "
                                  f"name {', '.join(required)})", "line 1"))


def _check_text(record: list[str], line: int) -> None:
    """Control characters (a NUL above all) are refused: no database stores them all."""
    if any(char in value for value in record for char in CONTROL_CHARACTERS):
        raise DomainError(Problem(ErrorCode.VALIDATION,
                                  f"line {line}: contains a control character",
                                  f"line {line}"))


def _decimal(text: str, column: str) -> Decimal:
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        raise RowError(f"{column} {text!r} is not a number") from None
    if not value.is_finite():
        raise RowError(f"{column} {text!r} is not a number")
    return value


def _date(text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise RowError(f"date {text!r} is not a date written YYYY-MM-DD") from None


def _description(row: Row) -> str:
    description = row.get("description")
    if len(description) > 2000:
        raise RowError("description is longer than 2000 characters")
    return description


def _named(names: dict[str, int], text: str, what: str) -> int:
    if text not in names:
        raise RowError(f"no {what} named {text!r}")
    return names[text]


def _domain(call: Callable[[], Any]) -> Any:
    """A domain check's refusal as a row error."""
    try:
        return call()
    except DomainError as error:
        raise RowError(error.problems[0].message) from None


def _validated(rows: list[Row], convert: Callable[[Row], dict[str, Any]]
               ) -> list[dict[str, Any]]:
    """Every row converted, or a DomainError listing each bad row by line."""
    good: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for row in rows:
        try:
            good.append(convert(row))
        except RowError as error:
            problems.append(Problem(ErrorCode.VALIDATION, f"line {row.line}: {error}",
                                    f"line {row.line}"))
    if not rows:
        problems.append(Problem(ErrorCode.VALIDATION, "the file has no rows to import"))
    if problems:
        shown = problems[:MAX_REPORTED]
        if len(problems) > MAX_REPORTED:
            shown.append(Problem(ErrorCode.VALIDATION,
                                 f"… and {len(problems) - MAX_REPORTED} more bad rows"))
        raise DomainError(*shown)
    return good


async def _names(session: AsyncSession, model: type[Service] | type[Customer],
                 organisation_id: int) -> dict[str, int]:
    rows = await session.execute(select(model.name, model.id)
                                 .where(model.organisation_id == organisation_id))
    return dict(rows.all())


async def import_costs(session: AsyncSession, organisation_id: int, text: str,
                       source: str, actor: Actor | None = None) -> int:
    """Import cost entries (columns service, date, category, amount[, currency,
    description]); returns how many were imported. The audit trail records one event
    for the file, by ``actor`` (the ``spm-api`` operator by default)."""
    books = await books_of(session, organisation_id, lock=True)
    services = await _names(session, Service, organisation_id)
    categories = await cost_categories(session, organisation_id)
    closed = await closed_periods(session, organisation_id)
    now = utcnow()

    def convert(row: Row) -> dict[str, Any]:
        service_id = _named(services, row.get("service"), "service")
        booked_on = _date(row.get("date"))
        month = str(period_of(booked_on))
        if month in closed:
            raise RowError(f"{month} is closed; book corrections in an open month")
        category = row.get("category").lower()
        if category not in categories:
            raise RowError(f"no cost category {row.get('category')!r}")
        amount = _cost_amount(books, row)
        return {"organisation_id": organisation_id, "service_id": service_id,
                "booked_on": booked_on, "period": month, "category": category,
                "amount": amount, "description": _description(row),
                "source": _source(source, row), "created_at": now}

    values = _validated(read_csv(text, COST_COLUMNS), convert)
    await session.execute(insert(CostEntry), values)
    _record_import(session, actor or Actor.operator(organisation_id), AuditEntity.COST_ENTRY,
                   source, values)
    return len(values)


def _record_import(session: AsyncSession, actor: Actor, entity: AuditEntity, source: str,
                   values: list[dict[str, Any]]) -> None:
    """Bulk inserts bypass the ORM: one event says how many rows came from where."""
    audit.record(session, actor, entity, None, AuditAction.IMPORTED,
                 after={"count": len(values), "source": source[:200]})


def _source(source: str, row: Row) -> str:
    """Where a row came from; a long file name is shortened, never the line number."""
    suffix = f":{row.line}"
    return source[:200 - len(suffix)] + suffix


def _cost_amount(books: Books, row: Row) -> Decimal:
    currency = row.get("currency") or books.currency
    money = _domain(lambda: Money.parse(row.get("amount"), currency, "amount"))
    amount: Decimal = _domain(lambda: books.amount(money, "amount"))
    return amount


async def import_usage(session: AsyncSession, organisation_id: int, text: str,
                       source: str, actor: Actor | None = None) -> int:
    """Import usage records (columns customer, service, period, quantity, unit); one
    audit event for the file, as ``import_costs``."""
    await books_of(session, organisation_id, lock=True)
    services = await _names(session, Service, organisation_id)
    ending = {service.id: service for service in await session.scalars(select(Service).where(
        Service.organisation_id == organisation_id, Service.planned_end_date.is_not(None)))}
    customers = await _names(session, Customer, organisation_id)
    closed = await closed_periods(session, organisation_id)
    now = utcnow()

    def convert(row: Row) -> dict[str, Any]:
        customer_id = _named(customers, row.get("customer"), "customer")
        service_id = _named(services, row.get("service"), "service")
        period = _domain(lambda: Period.parse(row.get("period")))
        month = str(period)
        if month in closed:
            raise RowError(f"{month} is closed; record usage in an open month")
        ended = service_id in ending and ended_before(ending[service_id], period)
        if ended:
            raise RowError(ended)
        amount = _decimal(row.get("quantity"), "quantity")
        return {"organisation_id": organisation_id, "customer_id": customer_id,
                "service_id": service_id, "period": month,
                "quantity": _domain(lambda: quantity(amount)),
                "unit": _domain(lambda: unit(row.get("unit"))),
                "source": _source(source, row), "created_at": now}

    values = _validated(read_csv(text, USAGE_COLUMNS), convert)
    await session.execute(insert(UsageRecord), values)
    _record_import(session, actor or Actor.operator(organisation_id),
                   AuditEntity.USAGE_RECORD, source, values)
    return len(values)

