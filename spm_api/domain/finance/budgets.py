"""Budgeting: the planned cost of a service per month and cost category."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain import audit
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.finance.books import books_of, check_category
from spm_api.domain.reads import load_owned
from spm_api.models import BudgetLine, Service
from spm_api.vocabulary.audit import AuditAction, AuditEntity
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.money import Money
from spm_api.vocabulary.periods import Period
from spm_api.vocabulary.stages import CLOSED_STAGES

#: What the audit trail records of a budget line.
AUDITED_FIELDS = ("service_id", "period", "category", "amount")


async def set_budget_line(session: AsyncSession, actor: Actor, service_id: int,
                          period: str, category: str, amount: Money) -> BudgetLine:
    """Plan ``amount`` for the service in a month and category, replacing what was
    planned there before."""
    actor.require(Permission.MANAGE_FINANCE)
    books = await books_of(session, actor.organisation_id, lock=True)
    planned = books.amount(amount, "amount")
    if planned < 0:
        raise fail(ErrorCode.VALIDATION, "a budget is not negative", "amount")
    month = Period.parse(period)
    code = await check_category(session, actor.organisation_id, category)
    service = await load_owned(session, Service, actor.organisation_id, service_id, "serviceId")
    if service.stage in CLOSED_STAGES:
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"the service is {service.stage.value}; it is not budgeted any more",
                   "serviceId")
    line = await session.scalar(select(BudgetLine).where(
        BudgetLine.service_id == service.id, BudgetLine.period == str(month),
        BudgetLine.category == code))
    before = None if line is None else audit.fields_of(line, AUDITED_FIELDS)
    if line is None:
        line = BudgetLine(organisation_id=actor.organisation_id, service_id=service.id,
                          period=str(month), category=code)
        session.add(line)
    line.amount = planned
    line.updated_by_id = actor.person_id
    line.updated_at = utcnow()
    await session.flush()
    after = audit.fields_of(line, AUDITED_FIELDS)
    if before is None:
        audit.record(session, actor, AuditEntity.BUDGET_LINE, line.id, AuditAction.CREATED,
                     after=after)
    else:
        audit.record_changes(session, actor, AuditEntity.BUDGET_LINE, line.id, before, after)
    return line


async def remove_budget_line(session: AsyncSession, actor: Actor, line_id: int) -> int:
    actor.require(Permission.MANAGE_FINANCE)
    line = await session.scalar(select(BudgetLine).where(
        BudgetLine.id == line_id, BudgetLine.organisation_id == actor.organisation_id))
    if line is None:
        raise fail(ErrorCode.NOT_FOUND, "no such budget line", "budgetLineId")
    audit.record(session, actor, AuditEntity.BUDGET_LINE, line.id, AuditAction.DELETED,
                 before=audit.fields_of(line, AUDITED_FIELDS))
    removed = await session.execute(delete(BudgetLine).where(
        BudgetLine.id == line_id, BudgetLine.organisation_id == actor.organisation_id))
    if removed.rowcount != 1:  # type: ignore[attr-defined]
        raise fail(ErrorCode.NOT_FOUND, "no such budget line", "budgetLineId")
    return line_id
