"""Accounting: actual cost booked against services, and usage recorded per customer.
Both are refused for closed months, whose books no longer change."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain import audit
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.finance.books import MAX_AMOUNT, books_of, check_category, require_open
from spm_api.domain.finance.service_end import require_delivered
from spm_api.domain.reads import Listing, load_owned
from spm_api.models import CostEntry, Customer, Service, UsageRecord
from spm_api.vocabulary.audit import AuditAction, AuditEntity
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.money import Money
from spm_api.vocabulary.periods import Period
from spm_api.vocabulary.validation import optional_text, required_text

#: The largest quantity a row may hold.
MAX_VALUE = MAX_AMOUNT


def period_of(day: date) -> Period:
    return Period(day.year, day.month)


def quantity(value: Decimal, field: str = "quantity") -> Decimal:
    """A usage quantity: finite, not negative, at most four decimals."""
    if not value.is_finite() or value < 0 or value > MAX_VALUE:
        raise fail(ErrorCode.VALIDATION, f"{field} must be a number from 0 to {MAX_VALUE}",
                   field)
    if value != value.quantize(Decimal("0.0001")):
        raise fail(ErrorCode.VALIDATION, f"{field} has more than four decimals", field)
    return value


def parse_quantity(text: str, field: str = "quantity") -> Decimal:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        raise fail(ErrorCode.VALIDATION, f"{field} must be a number, not {text!r}",
                   field) from None
    return quantity(value, field)


def unit(value: str, field: str = "unit") -> str:
    return required_text(value, field, 32)


async def record_cost(session: AsyncSession, actor: Actor, service_id: int, *,
                      booked_on: date, category: str, amount: Money, description: str = "",
                      source: str = "manual") -> CostEntry:
    """Book an actual cost. A negative amount is a credit (a refund, a credit note)."""
    actor.require(Permission.MANAGE_FINANCE)
    books = await books_of(session, actor.organisation_id, lock=True)
    value = books.amount(amount, "amount")
    month = period_of(booked_on)
    await require_open(session, actor.organisation_id, month, "bookedOn")
    code = await check_category(session, actor.organisation_id, category)
    service = await load_owned(session, Service, actor.organisation_id, service_id, "serviceId")
    entry = CostEntry(organisation_id=actor.organisation_id, service_id=service.id,
                      booked_on=booked_on, period=str(month), category=code, amount=value,
                      description=optional_text(description, "description", 2000),
                      source=required_text(source, "source", 200))
    session.add(entry)
    await session.flush()
    audit.record(session, actor, AuditEntity.COST_ENTRY, entry.id, AuditAction.CREATED,
                 after=audit.fields_of(entry, ("service_id", "booked_on", "category",
                                               "amount", "description", "source")))
    return entry


async def record_usage(session: AsyncSession, actor: Actor, customer_id: int,
                       service_id: int, *, period: str, amount: str, unit_name: str,
                       source: str = "manual") -> UsageRecord:
    """Record what a customer consumed of a service in a month."""
    actor.require(Permission.MANAGE_FINANCE)
    await books_of(session, actor.organisation_id, lock=True)
    month = Period.parse(period)
    await require_open(session, actor.organisation_id, month)
    customer = await load_owned(session, Customer, actor.organisation_id, customer_id, "customerId")
    service = await load_owned(session, Service, actor.organisation_id, service_id, "serviceId")
    require_delivered(service, month)
    record = UsageRecord(organisation_id=actor.organisation_id, customer_id=customer.id,
                         service_id=service.id, period=str(month),
                         quantity=parse_quantity(amount), unit=unit(unit_name),
                         source=required_text(source, "source", 200))
    session.add(record)
    await session.flush()
    audit.record(session, actor, AuditEntity.USAGE_RECORD, record.id, AuditAction.CREATED,
                 after=audit.fields_of(record, ("customer_id", "service_id", "period",
                                                "quantity", "unit", "source")))
    return record


def cost_entries(organisation_id: int, service_id: int | None = None,
                 from_period: str | None = None, to_period: str | None = None
                 ) -> Listing[CostEntry]:
    """Cost booked, newest first; between two months when given (inclusive)."""
    query = (select(CostEntry).where(CostEntry.organisation_id == organisation_id)
             .order_by(CostEntry.booked_on.desc(), CostEntry.id.desc()))
    if service_id is not None:
        query = query.where(CostEntry.service_id == service_id)
    if from_period is not None:
        query = query.where(CostEntry.period >= str(Period.parse(from_period, "fromPeriod")))
    if to_period is not None:
        query = query.where(CostEntry.period <= str(Period.parse(to_period, "toPeriod")))
    return Listing(query)
