"""Capabilities: what delivering a service needs, staffed internally or sourced from a
contractor. They are planned while the proposal is defined and analysed."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor, Permission
from spm_api.domain.finance.books import books_of
from spm_api.domain.portfolio.services import touch
from spm_api.domain.reads import load_owned
from spm_api.models import Capability, Contractor, Person, Quote, Service
from spm_api.vocabulary.enums import Sourcing
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.money import Money
from spm_api.vocabulary.stages import Stage
from spm_api.vocabulary.validation import optional_text, required_text

#: Capabilities are planned before the decision; after chartering they are engaged.
PLANNING_STAGES = frozenset({Stage.DEFINITION, Stage.ANALYSIS})


def require_planning(service: Service) -> None:
    if service.stage not in PLANNING_STAGES:
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"capabilities are planned in DEFINITION or ANALYSIS, not "
                   f"{service.stage.value}", "serviceId")


async def add_capability(session: AsyncSession, actor: Actor, service_id: int, *,
                         name: str, description: str, sourcing: Sourcing,
                         owner_id: int | None = None, contractor_id: int | None = None,
                         estimated_cost: Money | None = None) -> Capability:
    actor.require(Permission.EDIT_SERVICE)
    service = await load_owned(session, Service, actor.organisation_id, service_id, "serviceId")
    require_planning(service)
    name = required_text(name, "name", 200)
    if sourcing is Sourcing.INTERNAL:
        if owner_id is None or contractor_id is not None:
            raise fail(ErrorCode.VALIDATION,
                       "an internal capability has an owner and no contractor", "ownerId")
        await load_owned(session, Person, actor.organisation_id, owner_id, "ownerId")
    else:
        if contractor_id is None or owner_id is not None:
            raise fail(ErrorCode.VALIDATION,
                       "a contractor-sourced capability names a contractor and no owner",
                       "contractorId")
        await load_owned(session, Contractor, actor.organisation_id, contractor_id, "contractorId")
    taken = await session.scalar(select(Capability.id).where(
        Capability.service_id == service.id, Capability.name == name))
    if taken is not None:
        raise fail(ErrorCode.CONFLICT, f"the service already has a capability {name!r}",
                   "name")
    books = await books_of(session, actor.organisation_id, lock=True)
    capability = Capability(
        organisation_id=actor.organisation_id, service_id=service.id, name=name,
        description=optional_text(description, "description", 10_000), sourcing=sourcing,
        owner_id=owner_id, contractor_id=contractor_id,
        estimated_cost=books.optional_cost(estimated_cost, "estimatedCost"))
    session.add(capability)
    await session.flush()
    await refresh_estimated_cost(session, service)
    touch(service)
    await session.flush()
    return capability


async def remove_capability(session: AsyncSession, actor: Actor, capability_id: int) -> int:
    actor.require(Permission.EDIT_SERVICE)
    capability = await load_owned(session, Capability, actor.organisation_id, capability_id,
                                  "capabilityId")
    service = await load_owned(session, Service, actor.organisation_id, capability.service_id,
                               "serviceId")
    require_planning(service)
    await session.execute(delete(Quote).where(Quote.capability_id == capability.id))
    await session.delete(capability)
    await session.flush()
    await refresh_estimated_cost(session, service)
    touch(service)
    await session.flush()
    return capability_id




async def refresh_estimated_cost(session: AsyncSession, service: Service) -> None:
    """A service with capabilities costs what they are estimated to cost together."""
    total, costed = (await session.execute(
        select(func.sum(Capability.estimated_cost), func.count(Capability.estimated_cost))
        .where(Capability.service_id == service.id))).one()
    if costed:
        service.estimated_cost = total if isinstance(total, Decimal) else Decimal(0)

