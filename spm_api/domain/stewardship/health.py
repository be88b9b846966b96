"""A live service's health: its KPIs' current values judged by the health model (the
registered default, a plugin), with an explanation per KPI. Only LIVE services have a
health; the model is called once per service, never inside a write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor
from spm_api.domain.approvals.rounds import settings_by_plugin
from spm_api.domain.reads import ServiceFilter
from spm_api.domain.stewardship.readings import Current, readings_of_all
from spm_api.models import Service
from spm_api.plugins.contracts import (
    ASSESS_HEALTH,
    HEALTH_MODELS,
    HealthAssessment,
    KpiReading,
    ServiceReadings,
)
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import Health
from spm_api.vocabulary.stages import Stage

#: The stages whose services have a health: in the catalogue, still delivered (a
#: retiring service is watched until its end date).
MEASURED_STAGES = frozenset({Stage.LIVE, Stage.RETIRING})


def has_health(stage: Stage) -> bool:
    return stage in MEASURED_STAGES


def reading_of(kpi: Any, current: Current | None) -> KpiReading:
    """What the health model sees of one KPI. A source whose last pull failed makes
    the value unavailable, whatever was measured before."""
    unavailable = None
    if kpi.source is not None and kpi.pull_error is not None:
        unavailable = f"the source {kpi.source!r} failed: {kpi.pull_error}"
    known = current is not None and unavailable is None
    return KpiReading(
        kpi_id=kpi.id, name=kpi.name, unit=kpi.unit, kind=kpi.kind, direction=kpi.direction,
        target=kpi.target, warning_threshold=kpi.warning_threshold,
        breach_threshold=kpi.breach_threshold,
        value=current.value if known and current else None,
        period=current.when if known and current else None, unavailable=unavailable)


def readings_of(service: Any, pairs: Sequence[tuple[Any, Current | None]]
                ) -> ServiceReadings:
    """What the health model judges of a service: ``service`` and each KPI a row or
    its columns (``readings.READING_COLUMNS``)."""
    return ServiceReadings(service.organisation_id, service.id, service.name,
                           tuple(reading_of(kpi, current) for kpi, current in pairs))


def model_name(plugins: PluginHost) -> str:
    """The name of the health model in use: the registered default."""
    model = plugins.registry(HEALTH_MODELS).default
    assert model is not None, "the health models family needs a default"
    return model.item.name


async def assess(plugins: PluginHost, readings: ServiceReadings,
                 settings: Mapping[str, Mapping[str, Any]]) -> HealthAssessment:
    """The default health model's assessment, with its plugin's settings."""
    model = plugins.registry(HEALTH_MODELS).default
    assert model is not None, "the health models family needs a default"
    return await plugins.call(ASSESS_HEALTH, model, readings, settings.get(model.plugin, {}))


async def live_health(session: AsyncSession, plugins: PluginHost, organisation_id: int
                      ) -> dict[int, HealthAssessment]:
    """Every live service's assessment, by service id: a fixed number of statements,
    then one model call per service."""
    services = (await session.execute(
        select(Service.id, Service.organisation_id, Service.name).where(
            Service.organisation_id == organisation_id, Service.stage.in_(MEASURED_STAGES))
        .order_by(Service.id))).all()
    readings = await readings_of_all(session, organisation_id,
                                     [service.id for service in services])
    settings = await settings_by_plugin(session, organisation_id)
    return {service.id: await assess(plugins, readings_of(service, readings.get(service.id, [])),
                                     settings)
            for service in services}


async def health_counts(session: AsyncSession, plugins: PluginHost, actor: Actor
                        ) -> dict[Health, int]:
    """How many live services have each health."""
    counts = dict.fromkeys(Health, 0)
    for assessment in (await live_health(session, plugins, actor.organisation_id)).values():
        counts[assessment.status] += 1
    return counts


async def narrowed(session: AsyncSession, plugins: PluginHost, actor: Actor,
                   where: ServiceFilter) -> ServiceFilter:
    """``where`` with its health condition turned into the ids of the live services
    that have one of the healths asked for."""
    if not where.healths:
        return where
    assessed = await live_health(session, plugins, actor.organisation_id)
    wanted = set(where.healths)
    return replace(where, ids=[service_id for service_id, assessment in assessed.items()
                               if assessment.status in wanted])
