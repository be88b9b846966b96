"""Registering the people who have a stake in a service, each with a role."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor, Permission
from spm_api.domain.portfolio.services import touch
from spm_api.domain.reads import load_owned
from spm_api.models import Person, Service, Stakeholder
from spm_api.vocabulary.enums import StakeholderRole
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.stages import Stage

#: Stages whose services accept no more changes, stakeholders included.
ENDED = frozenset({Stage.RETIRED, Stage.REJECTED, Stage.WITHDRAWN, Stage.CANCELLED})


async def add_stakeholder(session: AsyncSession, actor: Actor, service_id: int,
                          person_id: int, role: StakeholderRole) -> Stakeholder:
    """Register ``person_id`` with ``role`` on the service. A person of another
    organisation is as unknown as one who does not exist (no tenant leak)."""
    actor.require(Permission.MANAGE_STAKEHOLDERS)
    service = await load_owned(session, Service, actor.organisation_id, service_id,
                               "serviceId")
    if service.stage in ENDED:
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"the service is {service.stage.value}: its stakeholders no longer "
                   f"change", "serviceId")
    person = await load_owned(session, Person, actor.organisation_id, person_id, "personId")
    existing = await session.scalar(select(Stakeholder.id).where(
        Stakeholder.service_id == service.id, Stakeholder.person_id == person.id,
        Stakeholder.role == role))
    if existing is not None:
        raise fail(ErrorCode.CONFLICT,
                   f"{person.name} is a {role.value} of '{service.name}' already", "role")
    stakeholder = Stakeholder(organisation_id=actor.organisation_id, service_id=service.id,
                              person_id=person.id, role=role, added_by_id=actor.person_id)
    session.add(stakeholder)
    touch(service)
    await session.flush()
    return stakeholder


async def remove_stakeholder(session: AsyncSession, actor: Actor, stakeholder_id: int
                             ) -> Stakeholder:
    """Remove one registration (one person in one role on one service)."""
    actor.require(Permission.MANAGE_STAKEHOLDERS)
    stakeholder = await load_owned(session, Stakeholder, actor.organisation_id,
                                   stakeholder_id, "stakeholderId")
    service = await load_owned(session, Service, actor.organisation_id,
                               stakeholder.service_id, "stakeholderId")
    if service.stage in ENDED:
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"the service is {service.stage.value}: its stakeholders no longer "
                   f"change", "stakeholderId")
    await session.delete(stakeholder)
    touch(service)
    await session.flush()
    return stakeholder
