"""An organisation's books: the currency amounts are kept in, its fiscal year, its cost
categories and which months are closed. Every finance command starts here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain import audit
from spm_api.domain.actor import Actor, Permission
from spm_api.models import ClosedPeriod, CostCategory, Organisation
from spm_api.vocabulary.audit import AuditAction, AuditEntity
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.money import LARGEST, Money
from spm_api.vocabulary.periods import Period
from spm_api.vocabulary.validation import required_text

#: The cost categories every organisation has; each may add its own.
STANDARD_CATEGORIES: dict[str, str] = {
    "hardware": "Hardware",
    "software": "Software",
    "labour": "Labour",
    "contractor": "Contractor",
    "facilities": "Facilities",
    "other": "Other",
}

#: The largest amount stored (the scaled BIGINT's range, rounded down).
MAX_AMOUNT = LARGEST

CATEGORY_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True, slots=True)
class Books:
    organisation_id: int
    currency: str
    fiscal_year_start_month: int

    def amount(self, money: Money, field: str) -> Decimal:
        """The amount of ``money``, refused when it is not in the books' currency or
        too large to store."""
        value = money.require_currency(self.currency, field).amount
        if abs(value) > MAX_AMOUNT:
            raise fail(ErrorCode.VALIDATION, f"{field} must be at most {MAX_AMOUNT}", field)
        return value

    def optional_cost(self, money: Money | None, field: str) -> Decimal | None:
        """A non-negative amount in the books' currency, or None."""
        if money is None:
            return None
        value = self.amount(money, field)
        if value < 0:
            raise fail(ErrorCode.VALIDATION, f"{field} must not be negative", field)
        return value

    def fiscal_year_of(self, period: Period) -> int:
        return period.fiscal_year(self.fiscal_year_start_month)


async def books_of(session: AsyncSession, organisation_id: int, *, lock: bool = False,
                   exclusive: bool = False) -> Books:
    """The organisation's books. ``lock`` takes a shared lock on the organisation row
    (recording costs and usage); ``exclusive`` an exclusive one (issuing and closing),
    so a month cannot close while something is being booked into it. On SQLite the
    exclusive form takes the database's write lock at once, which serialises the same
    commands."""
    query = select(Organisation).where(Organisation.id == organisation_id)
    if exclusive:
        query = query.with_for_update()
        if session.get_bind().dialect.name == "sqlite":
            # SQLite has no row locks: taking its write lock now (a no-op write) makes
            # other writers wait until this transaction ends, as FOR UPDATE would.
            await session.execute(update(Organisation)
                                  .where(Organisation.id == organisation_id)
                                  .values(id=Organisation.id)
                                  .execution_options(synchronize_session=False))
    elif lock:
        query = query.with_for_update(read=True)
    organisation = await session.scalar(query)
    if organisation is None:
        raise fail(ErrorCode.NOT_FOUND, "your organisation no longer exists")
    return Books(organisation.id, organisation.currency, organisation.fiscal_year_start_month)


async def cost_categories(session: AsyncSession, organisation_id: int) -> dict[str, str]:
    """Code → title of every category the organisation may book: standard ones first."""
    rows = await session.execute(
        select(CostCategory.code, CostCategory.title)
        .where(CostCategory.organisation_id == organisation_id)
        .order_by(CostCategory.code))
    return {**STANDARD_CATEGORIES, **{code: title for code, title in rows}}


async def check_category(session: AsyncSession, organisation_id: int, category: str,
                         field: str = "category") -> str:
    code = category.strip().lower()
    known = await cost_categories(session, organisation_id)
    if code not in known:
        raise fail(ErrorCode.VALIDATION,
                   f"no cost category {category!r}; the categories are {', '.join(known)}",
                   field)
    return code


async def add_cost_category(session: AsyncSession, actor: Actor, code: str, title: str
                            ) -> CostCategory:
    """Extend the standard categories with one of the organisation's own."""
    actor.require(Permission.MANAGE_FINANCE)
    code = code.strip().lower()
    if not CATEGORY_CODE.fullmatch(code):
        raise fail(ErrorCode.VALIDATION,
                   "a category code is lower-case letters, digits and _, starting with a "
                   "letter, at most 32 characters", "code")
    if code in await cost_categories(session, actor.organisation_id):
        raise fail(ErrorCode.CONFLICT, f"the category {code!r} already exists", "code")
    category = CostCategory(organisation_id=actor.organisation_id, code=code,
                            title=required_text(title, "title", 200))
    session.add(category)
    await session.flush()
    audit.record(session, actor, AuditEntity.COST_CATEGORY, category.id, AuditAction.CREATED,
                 after=audit.fields_of(category, ("code", "title")))
    return category


async def closed_periods(session: AsyncSession, organisation_id: int) -> set[str]:
    rows = await session.scalars(select(ClosedPeriod.period)
                                 .where(ClosedPeriod.organisation_id == organisation_id))
    return set(rows)


async def require_open(session: AsyncSession, organisation_id: int, period: Period,
                       field: str = "period") -> None:
    """Refuse to change what a closed month's books say."""
    closed = await session.scalar(select(ClosedPeriod.period).where(
        ClosedPeriod.organisation_id == organisation_id, ClosedPeriod.period == str(period)))
    if closed is not None:
        raise fail(ErrorCode.PERIOD_CLOSED,
                   f"{period} is closed; book corrections in an open month", field)
