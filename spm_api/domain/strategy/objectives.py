"""Strategic objectives of the organisation, and the weights services are aligned to
them with."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor, Permission
from spm_api.domain.portfolio.services import touch
from spm_api.domain.reads import load_owned
from spm_api.domain.strategy.settings import fraction
from spm_api.models import Service as ServiceRow
from spm_api.models import ServiceAlignment, StrategicObjective
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.stages import CLOSED_STAGES
from spm_api.vocabulary.validation import optional_text, required_text

ZERO = Decimal(0)


async def objectives(session: AsyncSession, actor: Actor) -> list[StrategicObjective]:
    """The organisation's objectives, by name."""
    return list(await session.scalars(
        select(StrategicObjective)
        .where(StrategicObjective.organisation_id == actor.organisation_id)
        .order_by(StrategicObjective.name)))


async def _unique_name(session: AsyncSession, actor: Actor, name: str,
                       except_id: int | None = None) -> None:
    query = select(StrategicObjective.id).where(
        StrategicObjective.organisation_id == actor.organisation_id,
        StrategicObjective.name == name)
    if except_id is not None:
        query = query.where(StrategicObjective.id != except_id)
    if await session.scalar(query) is not None:
        raise fail(ErrorCode.CONFLICT, f"an objective named {name!r} already exists", "name")


async def create_objective(session: AsyncSession, actor: Actor, name: str,
                           description: str = "") -> StrategicObjective:
    actor.require(Permission.MANAGE_STRATEGY)
    name = required_text(name, "name", 200)
    await _unique_name(session, actor, name)
    objective = StrategicObjective(organisation_id=actor.organisation_id, name=name,
                                   description=optional_text(description, "description",
                                                             4000))
    session.add(objective)
    await session.flush()
    return objective


async def update_objective(session: AsyncSession, actor: Actor, objective_id: int, *,
                           name: str | None = None, description: str | None = None
                           ) -> StrategicObjective:
    actor.require(Permission.MANAGE_STRATEGY)
    objective = await load_owned(session, StrategicObjective, actor.organisation_id,
                                 objective_id, "objectiveId")
    if name is not None:
        name = required_text(name, "name", 200)
        await _unique_name(session, actor, name, except_id=objective.id)
        objective.name = name
    if description is not None:
        objective.description = optional_text(description, "description", 4000)
    await session.flush()
    return objective


async def align_service(session: AsyncSession, actor: Actor, service_id: int,
                        objective_id: int, weight: str) -> ServiceAlignment:
    """Align the service to the objective with ``weight`` (above 0, at most 1: how much
    of the objective it serves); aligning again changes the weight."""
    actor.require(Permission.MANAGE_STRATEGY)
    service = await load_owned(session, ServiceRow, actor.organisation_id, service_id,
                               "serviceId")
    if service.stage in CLOSED_STAGES:
        raise fail(ErrorCode.STAGE_LOCKED, f"the service is {service.stage.value} and "
                   f"cannot change", "serviceId")
    objective = await load_owned(session, StrategicObjective, actor.organisation_id,
                                 objective_id, "objectiveId")
    value = fraction(weight, "weight")
    if value == 0:
        raise fail(ErrorCode.VALIDATION, "weight must be above 0; unalign the service "
                   "instead", "weight")
    alignment = await session.scalar(select(ServiceAlignment).where(
        ServiceAlignment.service_id == service.id,
        ServiceAlignment.objective_id == objective.id))
    if alignment is None:
        alignment = ServiceAlignment(organisation_id=actor.organisation_id,
                                     service_id=service.id, objective_id=objective.id,
                                     weight=value)
        session.add(alignment)
    else:
        alignment.weight = value
    touch(service)
    await session.flush()
    return alignment


async def unalign_service(session: AsyncSession, actor: Actor, service_id: int,
                          objective_id: int) -> ServiceRow:
    actor.require(Permission.MANAGE_STRATEGY)
    service = await load_owned(session, ServiceRow, actor.organisation_id, service_id,
                               "serviceId")
    alignment = await session.scalar(select(ServiceAlignment).where(
        ServiceAlignment.organisation_id == actor.organisation_id,
        ServiceAlignment.service_id == service.id,
        ServiceAlignment.objective_id == objective_id))
    if alignment is None:
        raise fail(ErrorCode.NOT_FOUND, "the service is not aligned to that objective",
                   "objectiveId")
    await session.delete(alignment)
    touch(service)
    await session.flush()
    return service


async def alignment_totals(session: AsyncSession, organisation_id: int, ids: Sequence[int]
                           ) -> dict[int, tuple[Decimal, tuple[str, ...]]]:
    """Per service: its alignment weights added up, and the objectives' names (one
    statement)."""
    if not ids:
        return {}
    found: dict[int, tuple[Decimal, tuple[str, ...]]] = {}
    rows = await session.execute(
        select(ServiceAlignment.service_id, ServiceAlignment.weight, StrategicObjective.name)
        .join(StrategicObjective, StrategicObjective.id == ServiceAlignment.objective_id)
        .where(ServiceAlignment.organisation_id == organisation_id,
               ServiceAlignment.service_id.in_(set(ids)))
        .order_by(ServiceAlignment.service_id, StrategicObjective.name))
    for service_id, weight, name in rows:
        total, names = found.get(service_id, (ZERO, ()))
        found[service_id] = (total + weight, (*names, name))
    return found


