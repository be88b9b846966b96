"""Contractor invoices, booked as actual cost in the ``contractor`` category."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor, Permission
from spm_api.domain.finance.accounting import record_cost
from spm_api.domain.finance.books import books_of
from spm_api.domain.reads import load_owned
from spm_api.models import Contractor, CostEntry, Engagement
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.money import Money
from spm_api.vocabulary.validation import required_text

CATEGORY = "contractor"


async def book_invoice(session: AsyncSession, actor: Actor, engagement_id: int, *,
                       reference: str, booked_on: date, amount: Money,
                       description: str = "") -> CostEntry:
    """The same invoice (contractor and reference) is booked once."""
    actor.require(Permission.MANAGE_FINANCE)
    # Exclusive: two bookings of the same invoice must not both pass the check below.
    await books_of(session, actor.organisation_id, exclusive=True)
    engagement = await load_owned(session, Engagement, actor.organisation_id, engagement_id,
                                  "engagementId")
    contractor = await session.get(Contractor, engagement.contractor_id)
    assert contractor is not None
    reference = required_text(reference, "invoiceReference", 100)
    source = f"contractor:{contractor.id}:{reference}"
    booked = await session.scalar(select(CostEntry.id).where(
        CostEntry.organisation_id == actor.organisation_id, CostEntry.source == source))
    if booked is not None:
        raise fail(ErrorCode.CONFLICT,
                   f"invoice {reference!r} of {contractor.name} is already booked",
                   "invoiceReference")
    return await record_cost(
        session, actor, engagement.service_id, booked_on=booked_on, category=CATEGORY,
        amount=amount,
        description=description or f"invoice {reference} from {contractor.name}",
        source=source)
