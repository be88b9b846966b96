"""Reading the people of an organisation: a picker-friendly search and the decision
makers, as listings to page through."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor
from spm_api.domain.reads import Listing
from spm_api.models import Person, PersonRole
from spm_api.vocabulary.enums import Role
from spm_api.vocabulary.errors import ErrorCode, fail


def people(actor: Actor, *, search: str | None = None, roles: Sequence[Role] = (),
           include_deactivated: bool = False) -> Listing[Person]:
    """People of the actor's organisation, by name. ``search`` matches a part of the
    name or e-mail address, whatever the case; those whose name or address starts with
    it come first. ``roles``: only people holding any of them."""
    query = select(Person).where(Person.organisation_id == actor.organisation_id)
    if not include_deactivated:
        query = query.where(Person.deactivated_at.is_(None))
    if roles:
        query = query.where(Person.id.in_(
            select(PersonRole.person_id).where(PersonRole.role.in_(set(roles)))))
    name, email = func.lower(Person.name), func.lower(Person.email)
    term = (search or "").strip().lower()
    if not term:
        return Listing(query.order_by(name, Person.id))
    query = query.where(name.contains(term, autoescape=True)
                        | email.contains(term, autoescape=True))
    prefix = case((name.startswith(term, autoescape=True)
                   | email.startswith(term, autoescape=True), 0), else_=1)
    return Listing(query.order_by(prefix, name, Person.id))


def decision_makers(actor: Actor) -> Listing[Person]:
    """The active people who may vote on approvals, by name."""
    return people(actor, roles=[Role.DECISION_MAKER])


async def person_by_email(session: AsyncSession, organisation_id: int, email: str) -> Person:
    """The person with this e-mail address (any case) in the organisation: how the
    command line names people."""
    person = await session.scalar(select(Person).where(
        Person.organisation_id == organisation_id, Person.email == email.strip().lower()))
    if person is None:
        raise fail(ErrorCode.NOT_FOUND, f"no person {email!r} in this organisation", "email")
    return person
