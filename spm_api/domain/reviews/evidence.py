"""The evidence a portfolio review shows for each service: KPIs against their targets
and the health they give, cost against budget and cost recovery over the review's
months, usage per month over the last twelve, open engagements and the customers
affected. Read for every item of a review at once, in a number of statements that does
not grow with the services."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.approvals.rounds import settings_by_plugin
from spm_api.domain.sourcing.engagements import ENDED_STATUSES
from spm_api.domain.stewardship import computed, health
from spm_api.domain.stewardship.readings import readings_of_all
from spm_api.domain.stewardship.scope import among
from spm_api.models import Engagement, Service, UsageRecord
from spm_api.plugins.contracts import HealthAssessment, ServiceReadings
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import Health
from spm_api.vocabulary.periods import Period

#: How many months the usage trend covers, ending with the review's last month.
TREND_MONTHS = 12


@dataclass(frozen=True, slots=True)
class KpiEvidence:
    """One KPI: its target, its current value and how it stands."""

    kpi_id: int
    name: str
    unit: str
    target: Decimal
    value: Decimal | None
    period: str | None
    status: Health
    explanation: str


#: A month of the usage trend: the month, every unit summed, the customers using it.
MonthUsage = tuple[str, Decimal, int]


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a review knows of one service. Percentages are None when there is nothing
    to divide by (no budget, no cost)."""

    service_id: int
    health: Health | None
    health_explanation: str
    kpis: tuple[KpiEvidence, ...]
    cost: Decimal
    budget: Decimal
    budget_variance: Decimal | None
    recovered: Decimal
    cost_recovery: Decimal | None
    usage_trend: tuple[MonthUsage, ...]
    open_engagements: int
    customers_affected: int


def months_between(first: Period, last: Period) -> list[str]:
    """Every month from ``first`` to ``last``, both included."""
    months: list[str] = []
    month = first
    while month <= last:
        months.append(str(month))
        month = month.shifted(1)
    return months


_STEP = Decimal("0.0001")


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part / whole * computed.HUNDRED).quantize(_STEP, rounding=ROUND_HALF_UP)


async def _open_engagements(session: AsyncSession, organisation_id: int,
                            ids: Collection[int]) -> dict[int, int]:
    connection = await session.connection()
    rows = await connection.execute(
        select(Engagement.service_id, func.count())
        .where(Engagement.organisation_id == organisation_id,
               among(Engagement.service_id, ids), Engagement.status.not_in(ENDED_STATUSES))
        .group_by(Engagement.service_id))
    return {service_id: int(count) for service_id, count in rows}


async def _customers(session: AsyncSession, organisation_id: int, ids: Collection[int],
                     months: list[str]) -> dict[int, int]:
    connection = await session.connection()
    rows = await connection.execute(
        select(UsageRecord.service_id, func.count(func.distinct(UsageRecord.customer_id)))
        .where(UsageRecord.organisation_id == organisation_id,
               among(UsageRecord.service_id, ids),
               UsageRecord.period >= months[0], UsageRecord.period <= months[-1])
        .group_by(UsageRecord.service_id))
    return {service_id: int(count) for service_id, count in rows}


def _kpis(readings: ServiceReadings, assessment: HealthAssessment | None
          ) -> tuple[KpiEvidence, ...]:
    """Each KPI as the health model saw it, with its judgement (UNKNOWN unjudged)."""
    judged = {j.kpi_id: j for j in assessment.judgements} if assessment else {}
    shown = []
    for reading in readings.readings:
        judgement = judged.get(reading.kpi_id)
        shown.append(KpiEvidence(
            reading.kpi_id, reading.name, reading.unit, reading.target, reading.value,
            reading.period, judgement.status if judgement else Health.UNKNOWN,
            judgement.explanation if judgement else ""))
    return tuple(shown)


def _books(service_id: int, months: dict[str, computed.MonthFacts], period: list[str],
           trend: list[str]) -> dict[str, Any]:
    """Cost, budget and recovery over ``period``, usage over ``trend``."""
    cost = budget = recovered = Decimal(0)
    for month in period:
        facts = months.get(month)
        if facts is not None:
            cost += facts.cost or 0
            budget += facts.budget or 0
            recovered += facts.recovered or 0
    usage: list[MonthUsage] = []
    for month in trend:
        facts = months.get(month)
        usage.append((month, facts.usage or _ZERO, facts.customers) if facts is not None
                     else (month, _ZERO, 0))
    return {"service_id": service_id, "cost": cost, "budget": budget,
            "budget_variance": _percent(cost - budget, budget), "recovered": recovered,
            "cost_recovery": _percent(recovered, cost), "usage_trend": tuple(usage)}


_ZERO = Decimal(0)


async def evidence_of(session: AsyncSession, plugins: PluginHost, organisation_id: int,
                      service_ids: Collection[int], period_from: str, period_to: str
                      ) -> dict[int, Evidence]:
    """Each service's evidence for the months ``period_from``..``period_to``, by id.

    The books are read once, grouped by service and month in SQL, and serve both the
    built-in KPIs' current values and the sums and trend; the health model is asked
    once per delivered service, in one pass after every read."""
    ids = set(service_ids)
    if not ids:
        return {}
    last = Period.parse(period_to)
    period = months_between(Period.parse(period_from), last)
    trend = months_between(last.shifted(1 - TREND_MONTHS), last)
    connection = await session.connection()
    services = [row for row in (await connection.execute(
        select(Service.id, Service.organisation_id, Service.name, Service.stage)
        .where(Service.organisation_id == organisation_id, among(Service.id, ids))
        .order_by(Service.id))).all() if row.id in ids]
    facts = await computed.facts_of(session, organisation_id, sorted(ids))
    readings = await readings_of_all(session, organisation_id, ids, facts)
    settings = await settings_by_plugin(session, organisation_id)
    engaged = await _open_engagements(session, organisation_id, ids)
    customers = await _customers(session, organisation_id, ids, trend)
    found: dict[int, Evidence] = {}
    for service in services:
        seen = health.readings_of(service, readings.get(service.id, []))
        assessment = await health.assess(plugins, seen, settings) \
            if health.has_health(service.stage) else None
        found[service.id] = Evidence(
            health=assessment.status if assessment else None,
            health_explanation=assessment.explanation if assessment else "",
            kpis=_kpis(seen, assessment),
            open_engagements=engaged.get(service.id, 0),
            customers_affected=customers.get(service.id, 0),
            **_books(service.id, facts.get(service.id, {}), period, trend))
    return found
