"""Organisations and people: set up by administrators and the CLI."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain import audit
from spm_api.domain.actor import Actor, Permission
from spm_api.models import (
    BudgetLine,
    ChargeAdjustment,
    CostEntry,
    Organisation,
    Person,
    PersonRole,
    Service,
    Statement,
)
from spm_api.vocabulary.audit import AuditEntity
from spm_api.vocabulary.enums import Role
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.money import currency_code
from spm_api.vocabulary.validation import required_text

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+$")


async def create_organisation(session: AsyncSession, name: str, slug: str) -> Organisation:
    name = required_text(name, "name", 200)
    if not SLUG_PATTERN.match(slug):
        raise fail(ErrorCode.VALIDATION, "slug must be lower-case letters, digits and -", "slug")
    taken = await session.scalar(select(Organisation.id).where(Organisation.slug == slug))
    if taken is not None:
        raise fail(ErrorCode.CONFLICT, f"organisation {slug!r} already exists", "slug")
    organisation = Organisation(name=name, slug=slug)
    session.add(organisation)
    await session.flush()
    return organisation


async def find_organisation(session: AsyncSession, slug: str) -> Organisation:
    organisation = await session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise fail(ErrorCode.NOT_FOUND, f"no organisation {slug!r}", "slug")
    return organisation


async def create_person(
    session: AsyncSession,
    organisation_id: int,
    name: str,
    email: str,
    roles: Iterable[Role],
) -> Person:
    name = required_text(name, "name", 200)
    email = required_text(email, "email", 320).lower()
    if not EMAIL_PATTERN.match(email):
        raise fail(ErrorCode.VALIDATION, f"{email!r} is not an e-mail address", "email")
    taken = await session.scalar(
        select(Person.id).where(Person.organisation_id == organisation_id, Person.email == email)
    )
    if taken is not None:
        raise fail(ErrorCode.CONFLICT, f"{email} is already a person here", "email")
    person = Person(organisation_id=organisation_id, name=name, email=email)
    session.add(person)
    await session.flush()
    session.add_all(PersonRole(person_id=person.id, role=role) for role in set(roles))
    await session.flush()
    return person


async def update_finance_settings(
    session: AsyncSession,
    actor: Actor,
    *,
    currency: str | None = None,
    fiscal_year_start_month: int | None = None,
) -> Organisation:
    """Set the currency the books are kept in and the month the fiscal year starts."""
    actor.require(Permission.ADMINISTER)
    # Exclusive: amounts being recorded (under the shared lock) finish first.
    organisation = await session.scalar(
        select(Organisation).where(Organisation.id == actor.organisation_id)
        .with_for_update())
    if organisation is None:
        raise fail(ErrorCode.NOT_FOUND, "your organisation no longer exists")
    fields = ("currency", "fiscal_year_start_month")
    before = audit.fields_of(organisation, fields)
    if currency is not None:
        code = currency_code(currency, "currency")
        if code != organisation.currency and await _keeps_amounts(session, organisation.id):
            raise fail(ErrorCode.CONFLICT,
                       f"amounts are already recorded in {organisation.currency}; changing "
                       f"the currency would misread them", "currency")
        organisation.currency = code
    if fiscal_year_start_month is not None:
        if not 1 <= fiscal_year_start_month <= 12:
            raise fail(ErrorCode.VALIDATION, "the fiscal year starts in a month 1-12",
                       "fiscalYearStartMonth")
        organisation.fiscal_year_start_month = fiscal_year_start_month
    audit.record_changes(session, actor, AuditEntity.ORGANISATION, organisation.id, before,
                         audit.fields_of(organisation, fields))
    await session.flush()
    return organisation


async def _keeps_amounts(session: AsyncSession, organisation_id: int) -> bool:
    """Whether any amount is recorded in the organisation's currency."""
    for model in (BudgetLine, CostEntry, Statement, ChargeAdjustment):
        found = await session.scalar(
            select(model.id).where(model.organisation_id == organisation_id).limit(1))
        if found is not None:
            return True
    costed = await session.scalar(select(Service.id).where(
        Service.organisation_id == organisation_id,
        or_(Service.estimated_cost.is_not(None), Service.expected_benefit.is_not(None)))
        .limit(1))
    return costed is not None
