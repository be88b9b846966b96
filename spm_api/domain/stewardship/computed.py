"""Built-in KPI kinds: values the books already hold, worked out per service and month
from grouped SQL sums (five statements whatever the number of services or months).

- COST_PER_UNIT: the month's actual cost ÷ its usage (every unit summed);
- COST_RECOVERY_RATE: billed charges of the month ÷ its actual cost, in %, for months
  whose statements were issued;
- BUDGET_VARIANCE: (actual cost - budget) ÷ budget, in % (positive: over budget);
- ACTIVE_CUSTOMERS: customers with usage in the month;
- USAGE_VOLUME: the month's usage (every unit summed).

A month lacking what a kind divides by has no value for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.plain import plain_rows
from spm_api.domain.stewardship.scope import among
from spm_api.models import BudgetLine, CostEntry, Statement, StatementLine, UsageRecord
from spm_api.vocabulary.enums import KpiKind
from spm_api.vocabulary.measures import VALUE_PLACES
from spm_api.vocabulary.periods import Period

SOURCE = "computed"
_STEP = Decimal(1).scaleb(-VALUE_PLACES)
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class ComputedValue:
    """A built-in KPI's value for one month, shaped like a recorded measurement."""

    period: str
    at: datetime
    value: Decimal
    source: str = SOURCE


@dataclass(slots=True)
class MonthFacts:
    """What the books hold for one service in one month."""

    cost: Decimal | None = None
    budget: Decimal | None = None
    usage: Decimal | None = None
    customers: int = 0
    #: Billed charges; None before the month's statements are issued.
    recovered: Decimal | None = None


def start_of(period: str) -> datetime:
    """The first instant of a month, in UTC: where a monthly value sits in time."""
    month = Period.parse(period)
    return datetime(month.year, month.month, 1, tzinfo=UTC)


async def facts_of(session: AsyncSession, organisation_id: int, service_ids: Sequence[int]
                   ) -> dict[int, dict[str, MonthFacts]]:
    """Per service id, per month: the facts the built-in kinds are worked out from."""
    found: dict[int, dict[str, MonthFacts]] = defaultdict(lambda: defaultdict(MonthFacts))
    ids = set(service_ids)
    if not ids:
        return {}
    # Plain rows on the driver's connection: tens of thousands of grouped sums need
    # none of SQLAlchemy's per-row result handling (changes pending are flushed first,
    # as the ORM would).
    await session.flush()
    connection = await session.connection()
    for service_id, period, total in await plain_rows(session,
            select(CostEntry.service_id, CostEntry.period, func.sum(CostEntry.amount))
            .where(CostEntry.organisation_id == organisation_id,
                   among(CostEntry.service_id, ids))
            .group_by(CostEntry.service_id, CostEntry.period)):
        found[service_id][period].cost = total
    for service_id, period, total in await plain_rows(session,
            select(BudgetLine.service_id, BudgetLine.period, func.sum(BudgetLine.amount))
            .where(BudgetLine.organisation_id == organisation_id,
                   among(BudgetLine.service_id, ids))
            .group_by(BudgetLine.service_id, BudgetLine.period)):
        found[service_id][period].budget = total
    for service_id, period, total, customers in await plain_rows(session,
            select(UsageRecord.service_id, UsageRecord.period, func.sum(UsageRecord.quantity),
                   func.count(func.distinct(UsageRecord.customer_id)))
            .where(UsageRecord.organisation_id == organisation_id,
                   among(UsageRecord.service_id, ids))
            .group_by(UsageRecord.service_id, UsageRecord.period)):
        facts = found[service_id][period]
        facts.usage, facts.customers = total, int(customers)
    for service_id, period, total in await plain_rows(session,
            select(StatementLine.service_id, Statement.period, func.sum(StatementLine.amount))
            .join(Statement, Statement.id == StatementLine.statement_id)
            .where(StatementLine.organisation_id == organisation_id,
                   among(StatementLine.service_id, ids), StatementLine.billed.is_(True))
            .group_by(StatementLine.service_id, Statement.period)):
        found[service_id][period].recovered = total or Decimal(0)
    issued = set((await connection.scalars(select(Statement.period).distinct().where(
        Statement.organisation_id == organisation_id))).all())
    for months in found.values():
        for period in issued & months.keys():
            if months[period].recovered is None:
                months[period].recovered = Decimal(0)
    return {service_id: dict(months) for service_id, months in found.items()
            if service_id in ids}


def _exact(value: Decimal) -> Decimal:
    return value.quantize(_STEP, rounding=ROUND_HALF_UP)


def value_of(kind: KpiKind, facts: MonthFacts) -> Decimal | None:
    """The kind's value for one month's facts; None when the month has none."""
    if kind is KpiKind.COST_PER_UNIT:
        if facts.cost is None or not facts.usage:
            return None
        return _exact(facts.cost / facts.usage)
    if kind is KpiKind.COST_RECOVERY_RATE:
        if not facts.cost or facts.recovered is None:
            return None
        return _exact(facts.recovered / facts.cost * HUNDRED)
    if kind is KpiKind.BUDGET_VARIANCE:
        if facts.cost is None or not facts.budget:
            return None
        return _exact((facts.cost - facts.budget) / facts.budget * HUNDRED)
    if kind is KpiKind.ACTIVE_CUSTOMERS:
        return Decimal(facts.customers) if facts.usage is not None else None
    if kind is KpiKind.USAGE_VOLUME:
        return facts.usage
    return None


def series(kind: KpiKind, months: dict[str, MonthFacts] | None) -> list[ComputedValue]:
    """The kind's monthly values, newest first."""
    values: list[ComputedValue] = []
    for period in sorted(months or {}, reverse=True):
        value = value_of(kind, (months or {})[period])
        if value is not None:
            values.append(ComputedValue(period, start_of(period), value))
    return values


def latest(kind: KpiKind, months: dict[str, MonthFacts] | None) -> ComputedValue | None:
    """The kind's value for the latest month that has one."""
    for period in sorted(months or {}, reverse=True):
        value = value_of(kind, (months or {})[period])
        if value is not None:
            return ComputedValue(period, start_of(period), value)
    return None
