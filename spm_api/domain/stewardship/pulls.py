"""Pulling KPI values from measurement sources. The sources are asked outside any
database transaction: the KPIs are read, the read transaction ends, every source is
asked (at once, each within the plugin time limit), and the answers are written in a
new transaction. A source that fails leaves its KPI's reason on the KPI (which reads
UNKNOWN) and never stops the others."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.approvals.rounds import settings_by_plugin
from spm_api.domain.reads import load_owned
from spm_api.domain.stewardship.measurements import MeasurementItem, check_items, write
from spm_api.models import Kpi, Service
from spm_api.plugins.contracts import (
    MEASUREMENT_SOURCES,
    READ_MEASUREMENT,
    MeasurementQuery,
    SourcedValue,
)
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import KpiKind
from spm_api.vocabulary.errors import DomainError
from spm_api.vocabulary.measures import VALUE_PLACES
from spm_api.vocabulary.stages import CLOSED_STAGES

_STEP = Decimal(1).scaleb(-VALUE_PLACES)
#: Longest reason kept on a KPI.
MAX_REASON_CHARS = 1000


@dataclass(frozen=True, slots=True)
class Pulled:
    """What one KPI's source answered: a value, or why there is none."""

    kpi_id: int
    source: str
    value: Decimal | None = None
    error: str | None = None
    at: datetime | None = None


async def pull_for(session: AsyncSession, actor: Actor, plugins: PluginHost,
                   service_id: int | None = None) -> list[Pulled]:
    """Pull the actor's organisation's KPIs that name a source (one service's only,
    with ``service_id``): portfolio managers and admins."""
    actor.require(Permission.MANAGE_KPIS)
    if service_id is not None:
        await load_owned(session, Service, actor.organisation_id, service_id, "serviceId")
    return await pull(session, plugins, actor.organisation_id, service_id)


async def pull(session: AsyncSession, plugins: PluginHost, organisation_id: int,
               service_id: int | None = None) -> list[Pulled]:
    """Ask each source for its KPIs' values and record them; returns one ``Pulled`` per
    KPI asked, in KPI order. The caller commits."""
    query = (select(Kpi, Service.name)
             .join(Service, Service.id == Kpi.service_id)
             .where(Kpi.organisation_id == organisation_id, Kpi.source.is_not(None),
                    Kpi.kind == KpiKind.MEASURED, Service.stage.not_in(CLOSED_STAGES))
             .order_by(Kpi.id))
    if service_id is not None:
        query = query.where(Kpi.service_id == service_id)
    asked: list[tuple[str, MeasurementQuery]] = []
    for kpi, service_name in (await session.execute(query)).all():
        assert kpi.source is not None
        asked.append((kpi.source, MeasurementQuery(
            organisation_id=organisation_id, service_id=kpi.service_id,
            service_name=service_name, kpi_id=kpi.id, kpi_name=kpi.name, unit=kpi.unit,
            query=kpi.source_query, kpi_settings=dict(kpi.source_settings or {}))))
    settings = await settings_by_plugin(session, organisation_id)
    await session.rollback()  # no transaction stays open while the sources answer

    answers = await asyncio.gather(*(_ask(plugins, source, question, settings)
                                     for source, question in asked))
    if not answers:
        return []
    return await _record(session, organisation_id, list(answers))


async def _ask(plugins: PluginHost, source: str, question: MeasurementQuery,
               settings: Mapping[str, Mapping[str, Any]]) -> Pulled:
    registered = plugins.registry(MEASUREMENT_SOURCES).get(source)
    if registered is None:
        return Pulled(question.kpi_id, source,
                      error=f"no measurement source {source!r} is installed")
    try:
        answer = await plugins.call(READ_MEASUREMENT, registered, question,
                                    settings.get(registered.plugin, {}))
    except DomainError as error:
        return Pulled(question.kpi_id, source, error=error.problems[0].message)
    if not isinstance(answer, SourcedValue):
        return Pulled(question.kpi_id, source, error=answer.reason.strip())
    return Pulled(question.kpi_id, source,
                  value=answer.value.quantize(_STEP, rounding=ROUND_HALF_UP),
                  at=answer.at)


async def _record(session: AsyncSession, organisation_id: int, answers: list[Pulled]
                  ) -> list[Pulled]:
    """Write the values that came and each KPI's outcome, in a new transaction; a KPI
    deleted (or its source changed) meanwhile is left alone. Returns the outcomes, a
    value the rules refused (a time in the future, say) as an error."""
    now = utcnow()
    kpis = {kpi.id: kpi for kpi in await session.scalars(select(Kpi).where(
        Kpi.organisation_id == organisation_id,
        Kpi.id.in_({answer.kpi_id for answer in answers})))}
    current = [answer for answer in answers
               if answer.kpi_id in kpis and kpis[answer.kpi_id].source == answer.source]
    items = [MeasurementItem(answer.kpi_id, answer.value, at=answer.at or now,
                             source=answer.source)
             for answer in current if answer.value is not None]
    checked, failures = await check_items(session, organisation_id, items, kpis=kpis,
                                          skip_recorded=True)
    refused = {items[index].kpi_id: error.problems[0].message for index, error in failures}
    outcomes: list[Pulled] = []
    current_ids = {answer.kpi_id for answer in current}
    for answer in answers:
        if answer.kpi_id in refused:
            answer = replace(answer, value=None, error=refused[answer.kpi_id])
        outcomes.append(answer)
        if answer.kpi_id in current_ids:
            kpi = kpis[answer.kpi_id]
            kpi.pull_error = None if answer.error is None else answer.error[:MAX_REASON_CHARS]
            kpi.pulled_at = now
    if checked:
        await write(session, organisation_id, checked, None)
    await session.flush()
    return outcomes
