"""Commands on the people of an organisation (admins): invite, grant and revoke roles,
deactivate and reactivate. None of them may leave the organisation without an active
admin (``LAST_ADMIN``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain import audit
from spm_api.domain.access import tokens
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.reads import load_owned
from spm_api.domain.tenancy import create_person
from spm_api.models import ApiToken, Person, PersonRole
from spm_api.vocabulary.audit import AuditAction, AuditEntity
from spm_api.vocabulary.enums import Role
from spm_api.vocabulary.errors import ErrorCode, fail

#: The name of the token an invitation issues.
INVITATION_TOKEN = "invitation"


async def invite_person(session: AsyncSession, actor: Actor, *, name: str, email: str,
                        roles: Iterable[Role], token_name: str = INVITATION_TOKEN,
                        token_expires_at: datetime | None = None
                        ) -> tuple[Person, ApiToken, str]:
    """Add a person with ``roles`` and issue their first token: the person, the token
    and its secret in clear (shown this once)."""
    actor.require(Permission.ADMINISTER)
    chosen = set(roles)
    if not chosen:
        raise fail(ErrorCode.VALIDATION, "give the person at least one role", "roles")
    person = await create_person(session, actor.organisation_id, name, email, chosen)
    audit.record(session, actor, AuditEntity.PERSON, person.id, AuditAction.CREATED,
                 after={**audit.fields_of(person, ("name", "email")),
                        "roles": audit.plain(chosen)})
    token, secret = await tokens.create_token(session, actor, person_id=person.id,
                                              name=token_name, expires_at=token_expires_at)
    return person, token, secret


async def grant_role(session: AsyncSession, actor: Actor, person_id: int, role: Role
                     ) -> Person:
    """Give the person ``role``; one they hold already is left as it is."""
    actor.require(Permission.ADMINISTER)
    person = await load_owned(session, Person, actor.organisation_id, person_id, "personId")
    held = await session.scalar(select(PersonRole.role).where(
        PersonRole.person_id == person.id, PersonRole.role == role))
    if held is None:
        before = await _roles_of(session, person.id)
        session.add(PersonRole(person_id=person.id, role=role))
        audit.record(session, actor, AuditEntity.PERSON, person.id, AuditAction.ROLE_GRANTED,
                     before={"roles": audit.plain(before)},
                     after={"roles": audit.plain(before | {role})})
        await session.flush()
    return person


async def revoke_role(session: AsyncSession, actor: Actor, person_id: int, role: Role
                      ) -> Person:
    """Take ``role`` from the person; one they do not hold is no change. Their last
    role stays (deactivate them instead), and so does the last active admin's ADMIN."""
    actor.require(Permission.ADMINISTER)
    person = await load_owned(session, Person, actor.organisation_id, person_id, "personId")
    held = await _roles_of(session, person.id)
    if role not in held:
        return person
    if role is Role.ADMIN:
        await _keep_an_admin(session, actor.organisation_id, person, "lose the ADMIN role")
    if held == {role}:
        raise fail(ErrorCode.VALIDATION, f"{role.value} is the person's only role; grant "
                   "another first, or deactivate the person", "role")
    await session.execute(delete(PersonRole).where(
        PersonRole.person_id == person.id, PersonRole.role == role))
    audit.record(session, actor, AuditEntity.PERSON, person.id, AuditAction.ROLE_REVOKED,
                 before={"roles": audit.plain(held)}, after={"roles": audit.plain(held - {role})})
    return person


async def _roles_of(session: AsyncSession, person_id: int) -> set[Role]:
    return set((await session.scalars(
        select(PersonRole.role).where(PersonRole.person_id == person_id))).all())


async def deactivate_person(session: AsyncSession, actor: Actor, person_id: int) -> Person:
    """Refuse every token of the person from the next request on, until reactivated;
    their tokens, roles and history stay. Deactivating again is no change."""
    actor.require(Permission.ADMINISTER)
    person = await load_owned(session, Person, actor.organisation_id, person_id, "personId",
                              for_update=True)
    if person.deactivated_at is None:
        await _keep_an_admin(session, actor.organisation_id, person, "be deactivated")
        person.deactivated_at = utcnow()
        audit.record(session, actor, AuditEntity.PERSON, person.id, AuditAction.DEACTIVATED,
                     before={"deactivatedAt": None},
                     after=audit.fields_of(person, ("deactivated_at",)))
        await session.flush()
    return person


async def reactivate_person(session: AsyncSession, actor: Actor, person_id: int) -> Person:
    """Let the person's tokens that are neither revoked nor expired authenticate again."""
    actor.require(Permission.ADMINISTER)
    person = await load_owned(session, Person, actor.organisation_id, person_id, "personId",
                              for_update=True)
    if person.deactivated_at is not None:
        audit.record(session, actor, AuditEntity.PERSON, person.id, AuditAction.REACTIVATED,
                     before=audit.fields_of(person, ("deactivated_at",)),
                     after={"deactivatedAt": None})
        person.deactivated_at = None
        await session.flush()
    return person


async def _keep_an_admin(session: AsyncSession, organisation_id: int, person: Person,
                         change: str) -> None:
    """Refuse (``LAST_ADMIN``) when ``person`` is the organisation's only active admin.
    The admins' rows are locked (PostgreSQL) so two admins removing each other at the
    same time cannot both pass: the second counts after the first commits."""
    admins = set((await session.scalars(
        select(Person.id)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(Person.organisation_id == organisation_id, PersonRole.role == Role.ADMIN,
               Person.deactivated_at.is_(None))
        .order_by(Person.id)
        .with_for_update())).all())
    if admins == {person.id}:
        raise fail(ErrorCode.LAST_ADMIN, f"{person.email} is the organisation's last active "
                   f"admin and cannot {change}; make someone else an admin first",
                   "personId")
