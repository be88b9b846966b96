"""Each KPI's current value, for many KPIs at once: the latest measurement of the
measured ones (one statement) and the latest month of the built-in kinds (the books'
grouped sums, five statements). Behind the loader ``Service.health`` and
``Kpi.latest`` share; the statement count does not grow with the services or KPIs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from spm_api.domain.plain import plain_rows
from spm_api.domain.stewardship import computed
from spm_api.domain.stewardship.scope import among
from spm_api.models import Kpi, Measurement
from spm_api.vocabulary.enums import KpiDirection, KpiKind


@dataclass(frozen=True, slots=True)
class Current:
    """A KPI's current value: for a month (``period``) or an instant."""

    value: Decimal
    at: datetime
    period: str | None
    source: str

    @property
    def when(self) -> str:
        return self.period if self.period is not None else self.at.isoformat()


class KpiKey(Protocol):
    """What finding a KPI's current value needs of it: a KPI row, or its columns."""

    @property
    def id(self) -> int: ...

    @property
    def service_id(self) -> int: ...

    @property
    def kind(self) -> KpiKind: ...


async def current_values(session: AsyncSession, organisation_id: int,
                         kpis: Sequence[KpiKey],
                         facts: Mapping[int, dict[str, computed.MonthFacts]] | None = None
                         ) -> dict[int, Current]:
    """The current value of each KPI that has one, by KPI id. ``facts``: the books'
    months of the services (``computed.facts_of``) when the caller has read them
    already. Read as plain rows (changes pending are flushed first, as the ORM
    would)."""
    found: dict[int, Current] = {}
    await session.flush()
    measured = {kpi.id for kpi in kpis if kpi.kind is KpiKind.MEASURED}
    if measured:
        # Each KPI's latest instant, found in the (kpi_id, at) unique index: one probe
        # per KPI rather than ranking every measurement (at is unique per KPI).
        earlier = aliased(Measurement)
        newest = (select(func.max(earlier.at)).where(earlier.kpi_id == Kpi.id)
                  .correlate(Kpi).scalar_subquery())
        query = (select(Kpi.id, Measurement.value, Measurement.at, Measurement.period,
                        Measurement.source)
                 .select_from(Kpi)
                 .join(Measurement, and_(Measurement.kpi_id == Kpi.id,
                                         Measurement.organisation_id == organisation_id,
                                         Measurement.at == newest))
                 .where(Kpi.organisation_id == organisation_id,
                        Kpi.kind == KpiKind.MEASURED, among(Kpi.id, measured)))
        for kpi_id, value, at, period, source in await plain_rows(session, query):
            if kpi_id in measured:
                found[kpi_id] = Current(value, at, period, source)
    built_in = [kpi for kpi in kpis if kpi.kind is not KpiKind.MEASURED]
    if built_in:
        if facts is None:
            facts = await computed.facts_of(session, organisation_id,
                                            sorted({kpi.service_id for kpi in built_in}))
        for kpi in built_in:
            latest = computed.latest(kpi.kind, facts.get(kpi.service_id))
            if latest is not None:
                found[kpi.id] = Current(latest.value, latest.at, latest.period,
                                        latest.source)
    return found


async def kpis_of_services(session: AsyncSession, organisation_id: int,
                           service_ids: Sequence[int]) -> dict[int, list[Kpi]]:
    """Each service's KPIs, in the order they were defined."""
    grouped: dict[int, list[Kpi]] = defaultdict(list)
    if service_ids:
        for kpi in await session.scalars(
                select(Kpi).where(Kpi.organisation_id == organisation_id,
                                  Kpi.service_id.in_(set(service_ids))).order_by(Kpi.id)):
            grouped[kpi.service_id].append(kpi)
    return grouped


#: The columns of a KPI its reading needs (rows of these read faster than KPI objects).
READING_COLUMNS = (Kpi.id, Kpi.service_id, Kpi.name, Kpi.unit, Kpi.kind, Kpi.direction,
                   Kpi.target, Kpi.warning_threshold, Kpi.breach_threshold, Kpi.source,
                   Kpi.pull_error)


class KpiRow(NamedTuple):
    """A KPI as ``READING_COLUMNS``: a plain tuple with names."""

    id: int
    service_id: int
    name: str
    unit: str
    kind: KpiKind
    direction: KpiDirection
    target: Decimal
    warning_threshold: Decimal
    breach_threshold: Decimal
    source: str | None
    pull_error: str | None


async def readings_of_all(session: AsyncSession, organisation_id: int,
                          service_ids: Collection[int],
                          facts: Mapping[int, dict[str, computed.MonthFacts]] | None = None
                          ) -> dict[int, list[tuple[Any, Current | None]]]:
    """Like ``readings_of_services`` for many services at once (a whole portfolio): the
    KPIs as column rows, every KPI of the organisation read and the others dropped.
    ``facts``: as for ``current_values``."""
    wanted = set(service_ids)
    await session.flush()
    kpis = [KpiRow._make(row) for row in await plain_rows(session, select(
        *READING_COLUMNS).where(Kpi.organisation_id == organisation_id,
                                among(Kpi.service_id, wanted)).order_by(Kpi.id))
            if row[1] in wanted]
    values = await current_values(session, organisation_id, kpis, facts)
    grouped: dict[int, list[tuple[Any, Current | None]]] = defaultdict(list)
    for kpi in kpis:
        grouped[kpi.service_id].append((kpi, values.get(kpi.id)))
    return grouped


async def readings_of_services(*, session: AsyncSession, organisation_id: int,
                               ids: Sequence[int]) -> list[list[tuple[Kpi, Current | None]]]:
    """Per service id: its KPIs, each with its current value (None without one)."""
    kpis = await kpis_of_services(session, organisation_id, ids)
    values = await current_values(session, organisation_id,
                                  [kpi for found in kpis.values() for kpi in found])
    return [[(kpi, values.get(kpi.id)) for kpi in kpis.get(service_id, [])]
            for service_id in ids]


@dataclass(frozen=True)
class MeasurementsOf:
    """A KPI's values, newest first, a page at a time: recorded measurements from SQL,
    a built-in kind's months worked out from the books."""

    kpi_id: int
    organisation_id: int
    service_id: int
    kind: KpiKind

    async def _computed(self, session: AsyncSession) -> list[computed.ComputedValue]:
        facts = await computed.facts_of(session, self.organisation_id, [self.service_id])
        return computed.series(self.kind, facts.get(self.service_id))

    async def fetch(self, session: AsyncSession, offset: int, limit: int | None
                    ) -> Sequence[Measurement | computed.ComputedValue]:
        if self.kind is not KpiKind.MEASURED:
            values = await self._computed(session)
            return values[offset:None if limit is None else offset + limit]
        query = (select(Measurement)
                 .where(Measurement.organisation_id == self.organisation_id,
                        Measurement.kpi_id == self.kpi_id)
                 .order_by(Measurement.at.desc(), Measurement.id.desc()))
        return (await session.scalars(query.offset(offset).limit(limit))).all()

    async def count(self, session: AsyncSession) -> int:
        if self.kind is not KpiKind.MEASURED:
            return len(await self._computed(session))
        return int(await session.scalar(
            select(func.count()).select_from(Measurement).where(
                Measurement.organisation_id == self.organisation_id,
                Measurement.kpi_id == self.kpi_id)) or 0)
