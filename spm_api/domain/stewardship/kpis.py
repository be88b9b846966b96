"""Defining, changing and removing a service's KPIs (portfolio managers and admins)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.finance.books import books_of
from spm_api.domain.reads import load_owned
from spm_api.models import Kpi, Service
from spm_api.plugins.contracts import MEASUREMENT_SOURCES, VALIDATE_KPI_SETTINGS
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import KpiDirection, KpiKind
from spm_api.vocabulary.errors import DomainError, ErrorCode, Problem, fail
from spm_api.vocabulary.measures import in_order, measured_value
from spm_api.vocabulary.stages import CLOSED_STAGES
from spm_api.vocabulary.validation import optional_text, required_text

#: What a built-in kind measures, and the unit its values are in (None: the currency).
BUILT_IN_UNITS: dict[KpiKind, str | None] = {
    KpiKind.COST_PER_UNIT: None,
    KpiKind.COST_RECOVERY_RATE: "%",
    KpiKind.BUDGET_VARIANCE: "%",
    KpiKind.ACTIVE_CUSTOMERS: "customers",
    KpiKind.USAGE_VOLUME: "",
}

MAX_QUERY_CHARS = 4000


@dataclass(frozen=True, slots=True)
class KpiSpec:
    """What a KPI is defined with; on an update, None leaves a field as it is."""

    name: str | None = None
    unit: str | None = None
    kind: KpiKind | None = None
    direction: KpiDirection | None = None
    target: Decimal | str | None = None
    warning_threshold: Decimal | str | None = None
    breach_threshold: Decimal | str | None = None
    source: str | None = None
    source_query: str | None = None
    source_settings: Mapping[str, Any] | None = None
    #: On an update: forget the measurement source.
    clear_source: bool = False


async def _service(session: AsyncSession, actor: Actor, service_id: int) -> Service:
    service = await load_owned(session, Service, actor.organisation_id, service_id,
                               "serviceId")
    if service.stage in CLOSED_STAGES:
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"the service is {service.stage.value}: its KPIs no longer change",
                   "serviceId")
    return service


async def define_kpi(session: AsyncSession, actor: Actor, plugins: PluginHost,
                     service_id: int, spec: KpiSpec) -> Kpi:
    """A new KPI of the service, every problem with the definition reported at once."""
    actor.require(Permission.MANAGE_KPIS)
    service = await _service(session, actor, service_id)
    kind = spec.kind or KpiKind.MEASURED
    if not (spec.unit or "").strip() and kind in BUILT_IN_UNITS:
        unit = BUILT_IN_UNITS[kind]
        if unit is None:
            unit = f"{(await books_of(session, actor.organisation_id)).currency} per unit"
        spec = replace(spec, unit=unit)
    kpi = Kpi(organisation_id=actor.organisation_id, service_id=service.id,
              created_by_id=actor.person_id, kind=kind,
              unit="", source=None, source_query="", source_settings={})
    _apply(kpi, spec, plugins, creating=True)
    await _refuse_duplicate_name(session, kpi)
    session.add(kpi)
    await session.flush()
    return kpi


async def update_kpi(session: AsyncSession, actor: Actor, plugins: PluginHost, kpi_id: int,
                     spec: KpiSpec) -> Kpi:
    actor.require(Permission.MANAGE_KPIS)
    kpi = await load_kpi(session, actor, kpi_id)
    await _service(session, actor, kpi.service_id)
    renamed = spec.name is not None and spec.name.strip() != kpi.name
    _apply(kpi, spec, plugins, creating=False)
    if renamed:
        await _refuse_duplicate_name(session, kpi)
    kpi.updated_at = utcnow()
    await session.flush()
    return kpi


async def delete_kpi(session: AsyncSession, actor: Actor, kpi_id: int) -> int:
    """Remove the KPI and its measurements; returns its id."""
    actor.require(Permission.MANAGE_KPIS)
    kpi = await load_kpi(session, actor, kpi_id)
    await _service(session, actor, kpi.service_id)
    await session.delete(kpi)
    await session.flush()
    return kpi_id


async def load_kpi(session: AsyncSession, actor: Actor, kpi_id: int,
                   field: str = "kpiId") -> Kpi:
    """The KPI in the actor's organisation, or NOT_FOUND."""
    kpi = await session.scalar(select(Kpi).where(
        Kpi.id == kpi_id, Kpi.organisation_id == actor.organisation_id))
    if kpi is None:
        raise fail(ErrorCode.NOT_FOUND, "no such KPI", field)
    return kpi


async def _refuse_duplicate_name(session: AsyncSession, kpi: Kpi) -> None:
    clash = await session.scalar(select(Kpi.id).where(
        Kpi.service_id == kpi.service_id, Kpi.name == kpi.name,
        Kpi.id != (kpi.id or 0)))
    if clash is not None:
        raise fail(ErrorCode.VALIDATION,
                   f"the service already has a KPI named {kpi.name!r}", "name")


def _apply(kpi: Kpi, spec: KpiSpec, plugins: PluginHost, *, creating: bool) -> None:
    """Check the spec against what the KPI already is and set it, or raise every
    problem found."""
    problems: list[Problem] = []

    def check(action: Any) -> Any:
        try:
            return action()
        except DomainError as error:
            problems.extend(error.problems)
            return None

    if spec.kind is not None and not creating and spec.kind is not kpi.kind:
        problems.append(Problem(ErrorCode.VALIDATION,
                                "a KPI's kind cannot change: define another KPI", "kind"))
    kind = kpi.kind
    name = spec.name if spec.name is not None else (None if creating else kpi.name)
    if name is None:
        problems.append(Problem(ErrorCode.VALIDATION, "name must not be blank", "name"))
    else:
        name = check(lambda: required_text(name, "name", 200))
    unit = spec.unit if spec.unit is not None else kpi.unit
    unit = check(lambda: optional_text(unit, "unit", 32))
    direction = spec.direction or (None if creating else kpi.direction)
    if direction is None:
        problems.append(Problem(ErrorCode.VALIDATION,
                                "direction is required: HIGHER_IS_BETTER or LOWER_IS_BETTER",
                                "direction"))
    numbers: dict[str, Decimal | None] = {}
    for field, given, current in (
            ("target", spec.target, None if creating else kpi.target),
            ("warningThreshold", spec.warning_threshold,
             None if creating else kpi.warning_threshold),
            ("breachThreshold", spec.breach_threshold,
             None if creating else kpi.breach_threshold)):
        value = given if given is not None else current
        if value is None:
            problems.append(Problem(ErrorCode.VALIDATION, f"{field} is required", field))
            numbers[field] = None
        else:
            numbers[field] = check(lambda value=value, field=field: measured_value(value,
                                                                                  field))
    target, warning, breach = (numbers["target"], numbers["warningThreshold"],
                               numbers["breachThreshold"])
    if (direction is not None and target is not None and warning is not None
            and breach is not None and not in_order(direction, target, warning, breach)):
        better = "at most" if direction is KpiDirection.HIGHER_IS_BETTER else "at least"
        problems.append(Problem(
            ErrorCode.VALIDATION,
            f"with {direction.value} the warning threshold must be {better} the target and "
            f"the breach threshold {better} the warning threshold", "warningThreshold"))
    source, query, settings = _source(kpi, spec, plugins, kind, problems)
    if problems:
        raise DomainError(*problems)
    assert name is not None and direction is not None
    assert target is not None and warning is not None and breach is not None
    kpi.name, kpi.direction = name, direction
    kpi.unit = unit if unit is not None else ""
    kpi.target, kpi.warning_threshold, kpi.breach_threshold = target, warning, breach
    if (source, query, settings) != (kpi.source, kpi.source_query,
                                     dict(kpi.source_settings or {})):
        kpi.pull_error = None  # a reason about what the KPI no longer asks
    kpi.source, kpi.source_query, kpi.source_settings = source, query, settings


def _source(kpi: Kpi, spec: KpiSpec, plugins: PluginHost, kind: KpiKind,
            problems: list[Problem]) -> tuple[str | None, str, dict[str, Any]]:
    """The measurement source, its query and settings as they will be."""
    if spec.clear_source:
        return None, "", {}
    source = spec.source.strip() if spec.source is not None else kpi.source
    query = spec.source_query if spec.source_query is not None else kpi.source_query
    settings = (dict(spec.source_settings) if spec.source_settings is not None
                else dict(kpi.source_settings or {}))
    if not source:
        if spec.source_query or spec.source_settings:
            problems.append(Problem(ErrorCode.VALIDATION,
                                    "a source query or settings need a source", "source"))
        return None, "", {}
    if kind is not KpiKind.MEASURED:
        problems.append(Problem(ErrorCode.VALIDATION,
                                f"a {kind.value} KPI is worked out from the books and reads "
                                f"no source", "source"))
        return None, "", {}
    try:
        query = optional_text(query or "", "sourceQuery", MAX_QUERY_CHARS)
        plugins.registry(MEASUREMENT_SOURCES).require(source)
        plugins.check(VALIDATE_KPI_SETTINGS, source, settings)
    except DomainError as error:
        problems.extend(error.problems)
    if not query:
        problems.append(Problem(ErrorCode.VALIDATION,
                                "sourceQuery must say what to ask the source", "sourceQuery"))
    return source, query, settings
