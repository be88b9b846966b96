"""Statements: issuing a charging run, closing a month, and correcting a closed month
with adjustment lines in a later one.

Issuing an open month replaces its statements; closing it makes them final. Both take
the organisation's row lock, so a month cannot close half-way through an issue.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain import events
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.finance.books import MAX_AMOUNT, books_of, require_open
from spm_api.domain.finance.charging import ChargingRun, compute_run
from spm_api.domain.finance.reports import Months
from spm_api.domain.finance.service_end import require_delivered
from spm_api.domain.reads import load_owned
from spm_api.models import (
    ChargeAdjustment,
    ClosedPeriod,
    CostEntry,
    Customer,
    Service,
    Statement,
    StatementLine,
    UsageRecord,
)
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.money import Money
from spm_api.vocabulary.periods import Period
from spm_api.vocabulary.validation import required_text


async def issue_statements(session: AsyncSession, actor: Actor, plugins: PluginHost,
                           period: str) -> tuple[ChargingRun, list[Statement]]:
    """Run charging for an open month and save one statement per customer charged,
    replacing the month's earlier statements."""
    actor.require(Permission.MANAGE_FINANCE)
    books = await books_of(session, actor.organisation_id, exclusive=True)
    month = Period.parse(period)
    await require_open(session, actor.organisation_id, month)
    run = await compute_run(session, books, plugins, month, "issue")
    await session.execute(delete(StatementLine).where(StatementLine.statement_id.in_(
        select(Statement.id).where(Statement.organisation_id == actor.organisation_id,
                                   Statement.period == str(month)))))
    await session.execute(delete(Statement).where(
        Statement.organisation_id == actor.organisation_id, Statement.period == str(month)))
    statements = []
    for customer_id, lines in run.lines_by_customer().items():
        billed = sum((line.amount for line in lines if line.billed), Decimal(0))
        if abs(billed) > MAX_AMOUNT:
            raise fail(ErrorCode.VALIDATION,
                       f"customer {customer_id}'s statement for {month} would come to "
                       f"{billed}, more than the books can hold", "period")
        statement = Statement(
            organisation_id=actor.organisation_id, customer_id=customer_id,
            period=str(month), currency=books.currency,
            total=sum((line.amount for line in lines if line.billed), Decimal(0)),
            notional_total=sum((line.amount for line in lines if not line.billed),
                               Decimal(0)),
            issued_by_id=actor.person_id)
        session.add(statement)
        statements.append((statement, lines))
    await session.flush()
    # Lines are written in one bulk INSERT: nothing reads their ids back.
    line_rows = [
        {"organisation_id": actor.organisation_id, "statement_id": statement.id,
         "service_id": line.service_id, "model": line.model, "amount": line.amount,
         "billed": line.billed, "description": line.description,
         "corrects_period": line.corrects_period}
        for statement, lines in statements for line in lines]
    if line_rows:
        await session.execute(insert(StatementLine), line_rows)
    events.record(session, events.StatementsIssued(actor.organisation_id, str(month)))
    return run, [statement for statement, _ in statements]


async def close_period(session: AsyncSession, actor: Actor, period: str) -> ClosedPeriod:
    """Close a month: its statements become final, its costs and usage fixed."""
    actor.require(Permission.MANAGE_FINANCE)
    await books_of(session, actor.organisation_id, exclusive=True)
    month = Period.parse(period)
    await require_open(session, actor.organisation_id, month)
    await _refuse_stale_statements(session, actor.organisation_id, str(month))
    closed = ClosedPeriod(organisation_id=actor.organisation_id, period=str(month),
                          closed_by_id=actor.person_id, closed_at=utcnow())
    session.add(closed)
    await session.execute(
        update(Statement)
        .where(Statement.organisation_id == actor.organisation_id,
               Statement.period == str(month))
        .values(closed_at=closed.closed_at)
        .execution_options(synchronize_session=False))
    await session.flush()
    return closed


async def _refuse_stale_statements(session: AsyncSession, organisation_id: int,
                                   month: str) -> None:
    """Closing makes the statements final: refuse when costs, usage or adjustments of
    the month were recorded after they were issued, which they would never bill."""
    issued = await session.scalar(select(func.min(Statement.issued_at)).where(
        Statement.organisation_id == organisation_id, Statement.period == month))
    if issued is None:
        return
    for model in (CostEntry, UsageRecord, ChargeAdjustment):
        later = await session.scalar(select(func.count()).select_from(model).where(
            model.organisation_id == organisation_id, model.period == month,
            model.created_at > issued))
        if later:
            raise fail(ErrorCode.CONFLICT,
                       f"{month} has {model.__tablename__.replace('_', ' ')}s recorded after "
                       f"its statements were issued; issue them again before closing",
                       "period")


async def add_adjustment(session: AsyncSession, actor: Actor, *, customer_id: int,
                         service_id: int, corrects_period: str, period: str, amount: Money,
                         reason: str) -> ChargeAdjustment:
    """Correct a closed month's charges: the adjustment is billed on the customer's
    statement of a later, open month (negative for a credit)."""
    actor.require(Permission.MANAGE_FINANCE)
    books = await books_of(session, actor.organisation_id, lock=True)
    value = books.amount(amount, "amount")
    if value == 0:
        raise fail(ErrorCode.VALIDATION, "an adjustment of zero corrects nothing", "amount")
    corrected = Period.parse(corrects_period, "correctsPeriod")
    carried_in = Period.parse(period)
    if await session.get(ClosedPeriod, (actor.organisation_id, str(corrected))) is None:
        raise fail(ErrorCode.VALIDATION,
                   f"{corrected} is still open: re-issue its statements instead",
                   "correctsPeriod")
    if carried_in <= corrected:
        raise fail(ErrorCode.VALIDATION,
                   f"the adjustment is billed in a month after {corrected}", "period")
    await require_open(session, actor.organisation_id, carried_in)
    customer = await load_owned(session, Customer, actor.organisation_id, customer_id, "customerId")
    service = await load_owned(session, Service, actor.organisation_id, service_id, "serviceId")
    require_delivered(service, corrected, "correctsPeriod")
    adjustment = ChargeAdjustment(
        organisation_id=actor.organisation_id, customer_id=customer.id,
        service_id=service.id, period=str(carried_in), corrects_period=str(corrected),
        amount=value, reason=required_text(reason, "reason", 2000),
        created_by_id=actor.person_id)
    session.add(adjustment)
    await session.flush()
    return adjustment


def statement_month(period: str) -> Period:
    """The month a ``period`` argument names (a month, quarter or year: its first month)."""
    return Months.parse(period, period).first


async def statements_of(session: AsyncSession, organisation_id: int, period: str,
                        customer_id: int | None = None) -> list[Statement]:
    """The month's issued statements, by customer (one customer's when given)."""
    found = (select(Statement)
             .where(Statement.organisation_id == organisation_id,
                    Statement.period == period)
             .order_by(Statement.customer_id))
    if customer_id is not None:
        found = found.where(Statement.customer_id == customer_id)
    return list(await session.scalars(found))
