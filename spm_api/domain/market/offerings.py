"""Service offerings: one or more services packaged for a segment, with service levels
(targets, the services' KPIs where they have them) and a price list (a charging model
and its parameters, checked by the model like a charging policy's). The catalogue is
the offerings whose services are all LIVE."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor, Permission
from spm_api.domain.reads import load_owned
from spm_api.models import (
    Kpi,
    MarketSegment,
    OfferingService,
    Service,
    ServiceLevel,
    ServiceOffering,
)
from spm_api.plugins.contracts import VALIDATE_PARAMETERS
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.errors import DomainError, ErrorCode, Problem, fail
from spm_api.vocabulary.measures import measured_value
from spm_api.vocabulary.stages import CLOSED_STAGES, Stage
from spm_api.vocabulary.validation import optional_text, required_text

MAX_SERVICES = 50
MAX_LEVELS = 100


@dataclass(frozen=True, slots=True)
class LevelInput:
    """A service level as asked: one of the service's KPIs (``kpi_id``), or a target
    named freely with its unit; ``target`` as decimal text, None keeps the KPI's."""

    service_id: int
    target: str | None = None
    kpi_id: int | None = None
    name: str | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class PriceLine:
    """One price of a price list: an amount (in ``currency``, or a percentage where
    ``currency`` is None) per ``unit``, for a tier up to a quantity."""

    name: str
    amount: Decimal
    currency: str | None
    unit: str
    #: For a tier: the quantity its price applies up to (None: no limit, or no tier).
    up_to: Decimal | None = None


async def offerings(session: AsyncSession, actor: Actor) -> list[ServiceOffering]:
    """Every offering of the organisation, by name."""
    return list(await session.scalars(
        select(ServiceOffering).where(ServiceOffering.organisation_id == actor.organisation_id)
        .order_by(ServiceOffering.name)))


async def catalogue(session: AsyncSession, actor: Actor) -> list[ServiceOffering]:
    """The published catalogue: offerings with services, every one of them LIVE (one
    statement)."""
    org = actor.organisation_id
    has_service = exists().where(OfferingService.offering_id == ServiceOffering.id)
    not_live = exists().where(
        OfferingService.offering_id == ServiceOffering.id,
        Service.id == OfferingService.service_id, Service.stage != Stage.LIVE)
    return list(await session.scalars(
        select(ServiceOffering)
        .where(ServiceOffering.organisation_id == org, has_service, ~not_live)
        .order_by(ServiceOffering.name)))


async def _unique(session: AsyncSession, actor: Actor, name: str,
                  except_id: int | None = None) -> None:
    query = select(ServiceOffering.id).where(
        ServiceOffering.organisation_id == actor.organisation_id, ServiceOffering.name == name)
    if except_id is not None:
        query = query.where(ServiceOffering.id != except_id)
    if await session.scalar(query) is not None:
        raise fail(ErrorCode.CONFLICT, f"an offering named {name!r} already exists", "name")


async def _services(session: AsyncSession, actor: Actor, service_ids: Sequence[int]
                    ) -> list[Service]:
    """The services, in the order given, each once; at least one, none closed."""
    wanted = list(dict.fromkeys(service_ids))
    if not wanted:
        raise fail(ErrorCode.VALIDATION, "an offering packages at least one service",
                   "serviceIds")
    if len(wanted) > MAX_SERVICES:
        raise fail(ErrorCode.VALIDATION, f"an offering packages at most {MAX_SERVICES} "
                   "services", "serviceIds")
    found = {row.id: row for row in await session.scalars(select(Service).where(
        Service.organisation_id == actor.organisation_id, Service.id.in_(wanted)))}
    problems = [Problem(ErrorCode.NOT_FOUND, "no such service", f"serviceIds.{index}")
                for index, key in enumerate(wanted) if key not in found]
    problems += [Problem(ErrorCode.STAGE_LOCKED, f"the service is {found[key].stage.value} "
                         "and cannot be offered", f"serviceIds.{index}")
                 for index, key in enumerate(wanted)
                 if key in found and found[key].stage in CLOSED_STAGES]
    if problems:
        raise DomainError(*problems)
    return [found[key] for key in wanted]


async def _levels(session: AsyncSession, actor: Actor, offering: ServiceOffering,
                  services: Sequence[Service], levels: Sequence[LevelInput]
                  ) -> list[ServiceLevel]:
    """The service levels checked: each of one of the offering's services, a KPI of
    that service (a free name that is one of its KPIs' names is that KPI), or a free
    name with a unit, named once per service."""
    if len(levels) > MAX_LEVELS:
        raise fail(ErrorCode.VALIDATION, f"at most {MAX_LEVELS} service levels",
                   "serviceLevels")
    in_offering = {service.id for service in services}
    kpis = list(await session.scalars(select(Kpi).where(
        Kpi.organisation_id == actor.organisation_id, Kpi.service_id.in_(in_offering))))
    by_id = {kpi.id: kpi for kpi in kpis}
    by_name = {(kpi.service_id, kpi.name): kpi for kpi in kpis}
    rows: list[ServiceLevel] = []
    seen: set[tuple[int, str]] = set()
    for index, level in enumerate(levels):
        field = f"serviceLevels.{index}"
        if level.service_id not in in_offering:
            raise fail(ErrorCode.VALIDATION, "a service level is for one of the offering's "
                       "services", f"{field}.serviceId")
        kpi: Kpi | None = None
        if level.kpi_id is not None:
            kpi = by_id.get(level.kpi_id)
            if kpi is None or kpi.service_id != level.service_id:
                raise fail(ErrorCode.NOT_FOUND, "no such KPI of the service",
                           f"{field}.kpiId")
        elif level.name is not None:
            kpi = by_name.get((level.service_id, level.name.strip()))
        if kpi is not None:
            name, unit = kpi.name, kpi.unit
            target = (kpi.target if level.target is None
                      else measured_value(level.target, f"{field}.target"))
        else:
            if level.name is None or level.unit is None or level.target is None:
                raise fail(ErrorCode.VALIDATION, "a service level without a KPI needs a "
                           "name, a unit and a target", f"{field}.name")
            name = required_text(level.name, f"{field}.name", 200)
            unit = required_text(level.unit, f"{field}.unit", 32)
            target = measured_value(level.target, f"{field}.target")
        if (level.service_id, name) in seen:
            raise fail(ErrorCode.CONFLICT, f"the service has a level named {name!r} already",
                       f"{field}.name")
        seen.add((level.service_id, name))
        rows.append(ServiceLevel(organisation_id=actor.organisation_id,
                                 offering_id=offering.id, service_id=level.service_id,
                                 kpi_id=None if kpi is None else kpi.id, name=name,
                                 target=target, unit=unit))
    return rows


async def _replace_parts(session: AsyncSession, actor: Actor, offering: ServiceOffering,
                         services: Sequence[Service] | None,
                         levels: Sequence[LevelInput] | None) -> None:
    if services is not None:
        await session.execute(delete(OfferingService).where(
            OfferingService.offering_id == offering.id))
        session.add_all(OfferingService(organisation_id=actor.organisation_id,
                                        offering_id=offering.id, service_id=service.id)
                        for service in services)
    if levels is not None or services is not None:
        current = services if services is not None else list(await session.scalars(
            select(Service).join(OfferingService, OfferingService.service_id == Service.id)
            .where(OfferingService.offering_id == offering.id)))
        if levels is None:  # the services changed: keep the levels of those that stay
            kept = list(await session.scalars(select(ServiceLevel).where(
                ServiceLevel.offering_id == offering.id)))
            levels = [LevelInput(row.service_id, str(row.target), row.kpi_id, row.name,
                                 row.unit)
                      for row in kept if row.service_id in {s.id for s in current}]
        rows = await _levels(session, actor, offering, current, levels)
        await session.execute(delete(ServiceLevel).where(
            ServiceLevel.offering_id == offering.id))
        session.add_all(rows)


async def create_offering(session: AsyncSession, actor: Actor, name: str, segment_id: int,
                          service_ids: Sequence[int], levels: Sequence[LevelInput] = (),
                          description: str = "") -> ServiceOffering:
    actor.require(Permission.MANAGE_MARKET)
    name = required_text(name, "name", 200)
    segment = await load_owned(session, MarketSegment, actor.organisation_id, segment_id,
                               "segmentId")
    services = await _services(session, actor, service_ids)
    await _unique(session, actor, name)
    offering = ServiceOffering(organisation_id=actor.organisation_id, name=name,
                               segment_id=segment.id,
                               description=optional_text(description, "description", 4000))
    session.add(offering)
    await session.flush()
    await _replace_parts(session, actor, offering, services, levels)
    await session.flush()
    return offering


async def update_offering(session: AsyncSession, actor: Actor, offering_id: int, *,
                          name: str | None = None, description: str | None = None,
                          segment_id: int | None = None,
                          service_ids: Sequence[int] | None = None,
                          levels: Sequence[LevelInput] | None = None) -> ServiceOffering:
    """Change what is given; new services or levels replace the old (levels of services
    that stay are kept when only the services change)."""
    actor.require(Permission.MANAGE_MARKET)
    offering = await load_owned(session, ServiceOffering, actor.organisation_id,
                                offering_id, "offeringId")
    if name is not None:
        name = required_text(name, "name", 200)
        await _unique(session, actor, name, offering.id)
        offering.name = name
    if description is not None:
        offering.description = optional_text(description, "description", 4000)
    if segment_id is not None:
        offering.segment_id = (await load_owned(session, MarketSegment, actor.organisation_id,
                                                segment_id, "segmentId")).id
    services = None if service_ids is None else await _services(session, actor, service_ids)
    await _replace_parts(session, actor, offering, services, levels)
    await session.flush()
    return offering


async def set_price_list(session: AsyncSession, actor: Actor, plugins: PluginHost,
                         offering_id: int, model: str | None,
                         parameters: Mapping[str, Any] | None) -> ServiceOffering:
    """Price the offering with a charging model and its parameters, checked and
    normalised by the model as a charging policy's are; ``model`` None removes the price
    list (subscribers are charged by each service's own policy again)."""
    actor.require(Permission.MANAGE_PRICES)
    offering = await load_owned(session, ServiceOffering, actor.organisation_id,
                                offering_id, "offeringId")
    if model is None:
        offering.charging_model = None
        offering.charging_parameters = None
    else:
        given = {} if parameters is None else parameters
        if not isinstance(given, Mapping):
            raise fail(ErrorCode.VALIDATION, "parameters must be a JSON object", "parameters")
        normalised = plugins.check(VALIDATE_PARAMETERS, model.strip(), given)
        offering.charging_model = model.strip()
        offering.charging_parameters = dict(normalised)
    await session.flush()
    return offering


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def price_lines(model: str | None, parameters: Mapping[str, Any] | None, currency: str
                ) -> list[PriceLine]:
    """The price list's numeric parameters as typed prices, by parameter name:
    ``price`` is money per month, ``unit_price`` (and any other number) money per the
    ``unit`` parameter (or per unit), ``…_percent`` a percentage; a list of tiers
    (objects with a ``unit_price`` and an ``up_to``) gives one price per tier.
    Parameters that are no number (a unit filter, a plugin's nested settings) are not
    prices."""
    if model is None or not parameters:
        return []
    unit = parameters.get("unit")
    per = unit if isinstance(unit, str) and unit else "unit"
    lines = []
    for name in sorted(parameters):
        value = parameters[name]
        amount = _number(value)
        if name == "unit":
            continue
        if amount is not None:
            if name.endswith("_percent"):
                lines.append(PriceLine(name, amount, None, "percent"))
            elif name == "price":
                lines.append(PriceLine(name, amount, currency, "month"))
            else:
                lines.append(PriceLine(name, amount, currency, per))
        elif isinstance(value, list):
            for index, tier in enumerate(value):
                price = _number(tier.get("unit_price")) if isinstance(tier, Mapping) else None
                if price is not None:
                    lines.append(PriceLine(f"{name}.{index}", price, currency, per,
                                           _number(tier.get("up_to"))))
    return lines
