"""The evidence a portfolio review shows for each service: KPIs against their targets
and the health they give, cost against budget and cost recovery over the review's
months, usage per month over the last twelve, open engagements and the customers
affected. Read for every item of a review at once, in a number of statements that does
not grow with the services."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.approvals.rounds import settings_by_plugin
from spm_api.domain.sourcing.engagements import ENDED_STATUSES
from spm_api.domain.stewardship import computed, health
from spm_api.domain.stewardship.readings import readings_of_all
from spm_api.domain.stewardship.scope import among
from spm_api.models import Engagement, Service, UsageRecord
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


@dataclass(frozen=True, slots=True)
class MonthUsage:
    """A month of the usage trend: every unit summed, and the customers using it."""

    period: str
    quantity: Decimal
    customers: int


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
    rows = await session.execute(
        select(Engagement.service_id, func.count())
        .where(Engagement.organisation_id == organisation_id,
               among(Engagement.service_id, ids), Engagement.status.not_in(ENDED_STATUSES))
        .group_by(Engagement.service_id))
    return {service_id: int(count) for service_id, count in rows}


async def _customers(session: AsyncSession, organisation_id: int, ids: Collection[int],
                     months: list[str]) -> dict[int, int]:
    rows = await session.execute(
        select(UsageRecord.service_id, func.count(func.distinct(UsageRecord.customer_id)))
        .where(UsageRecord.organisation_id == organisation_id,
               among(UsageRecord.service_id, ids),
               UsageRecord.period >= months[0], UsageRecord.period <= months[-1])
        .group_by(UsageRecord.service_id))
    return {service_id: int(count) for service_id, count in rows}


async def evidence_of(session: AsyncSession, plugins: PluginHost, organisation_id: int,
                      service_ids: Collection[int], period_from: str, period_to: str
                      ) -> dict[int, Evidence]:
    """Each service's evidence for the months ``period_from``..``period_to``, by id."""
    ids = set(service_ids)
    if not ids:
        return {}
    last = Period.parse(period_to)
    period = months_between(Period.parse(period_from), last)
    trend = months_between(last.shifted(1 - TREND_MONTHS), last)
    services = {row.id: row for row in (await session.execute(
        select(Service.id, Service.organisation_id, Service.name, Service.stage)
        .where(Service.organisation_id == organisation_id, among(Service.id, ids)))).all()
        if row.id in ids}
    readings = await readings_of_all(session, organisation_id, ids)
    settings = await settings_by_plugin(session, organisation_id)
    facts = await computed.facts_of(session, organisation_id, sorted(ids))
    engaged = await _open_engagements(session, organisation_id, ids)
    customers = await _customers(session, organisation_id, ids, trend)
    found: dict[int, Evidence] = {}
    for service_id, service in services.items():
        pairs = readings.get(service_id, [])
        assessment = None
        if health.has_health(service.stage):
            assessment = await health.assess(plugins, health.readings_of(service, pairs),
                                             settings)
        judged = {j.kpi_id: j for j in assessment.judgements} if assessment else {}
        kpis = tuple(
            KpiEvidence(
                kpi.id, kpi.name, kpi.unit, kpi.target,
                reading.value, reading.period,
                judged[kpi.id].status if kpi.id in judged else Health.UNKNOWN,
                judged[kpi.id].explanation if kpi.id in judged else "")
            for kpi, reading in ((kpi, health.reading_of(kpi, current))
                                 for kpi, current in pairs))
        months = facts.get(service_id, {})
        in_period = [months[m] for m in period if m in months]
        cost = sum((f.cost or Decimal(0) for f in in_period), Decimal(0))
        budget = sum((f.budget or Decimal(0) for f in in_period), Decimal(0))
        recovered = sum((f.recovered or Decimal(0) for f in in_period), Decimal(0))
        found[service_id] = Evidence(
            service_id=service_id,
            health=assessment.status if assessment else None,
            health_explanation=assessment.explanation if assessment else "",
            kpis=kpis, cost=cost, budget=budget,
            budget_variance=_percent(cost - budget, budget),
            recovered=recovered, cost_recovery=_percent(recovered, cost),
            usage_trend=tuple(
                MonthUsage(m, months[m].usage or Decimal(0) if m in months else Decimal(0),
                           months[m].customers if m in months else 0) for m in trend),
            open_engagements=engaged.get(service_id, 0),
            customers_affected=customers.get(service_id, 0))
    return found
