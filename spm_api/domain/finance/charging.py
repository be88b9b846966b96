"""Charging: each service's charging policy, and the charging run that turns a month's
actual cost and usage into charges per customer and service.

The run aggregates in SQL (one grouped statement each for cost, usage, policies,
subscribed price lists and adjustments) and calls each service's charging model once
with the sums, and once more per offering whose price list applies to some of its
customers: the model sees the service's whole month (so shares of cost stay shares of
the whole), and only the lines of the customers it prices are kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from time import perf_counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain import audit
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.approvals.rounds import settings_by_plugin
from spm_api.domain.finance.books import Books, books_of
from spm_api.domain.market.subscriptions import subscribed_prices
from spm_api.domain.reads import load_owned
from spm_api.models import ChargeAdjustment, ChargingPolicy, CostEntry, Service, UsageRecord
from spm_api.observability.metrics import CHARGING_RUN_LINES, CHARGING_RUN_SECONDS, CHARGING_RUNS
from spm_api.plugins.contracts import (
    CHARGE,
    CHARGING_MODELS,
    VALIDATE_PARAMETERS,
    ChargeableUsage,
    ChargingPeriod,
)
from spm_api.plugins.host import PluginHost
from spm_api.plugins.registry import builtin_default
from spm_api.vocabulary.audit import AuditAction, AuditEntity
from spm_api.vocabulary.errors import DomainError, ErrorCode, fail
from spm_api.vocabulary.periods import Period

#: The model of a service without a policy: a cost centre, never charged.
DEFAULT_MODEL = builtin_default(CHARGING_MODELS)


async def set_charging_policy(session: AsyncSession, actor: Actor, plugins: PluginHost,
                              service_id: int, model: str, parameters: Mapping[str, Any]
                              ) -> ChargingPolicy:
    """Choose how a service is charged; the model checks and normalises its parameters."""
    actor.require(Permission.MANAGE_FINANCE)
    service = await load_owned(session, Service, actor.organisation_id, service_id, "serviceId")
    if not isinstance(parameters, Mapping):
        raise fail(ErrorCode.VALIDATION, "parameters must be a JSON object", "parameters")
    normalised = plugins.check(VALIDATE_PARAMETERS, model.strip(), parameters)
    policy = await session.get(ChargingPolicy, service.id)
    before = None if policy is None else audit.fields_of(policy, ("model", "parameters"))
    if policy is None:
        policy = ChargingPolicy(service_id=service.id, organisation_id=actor.organisation_id)
        session.add(policy)
    policy.model = model.strip()
    policy.parameters = dict(normalised)
    policy.updated_by_id = actor.person_id
    policy.updated_at = utcnow()
    await session.flush()
    after = audit.fields_of(policy, ("model", "parameters"))
    if before is None:
        audit.record(session, actor, AuditEntity.CHARGING_POLICY, service.id,
                     AuditAction.CREATED, after=after, via=policy.model)
    else:
        audit.record_changes(session, actor, AuditEntity.CHARGING_POLICY, service.id,
                             before, after, via=policy.model)
    return policy


@dataclass(frozen=True, slots=True)
class RunLine:
    """One line of a charging run: what a customer owes for one service, or an
    adjustment correcting a closed month."""

    customer_id: int
    service_id: int
    model: str
    amount: Decimal
    billed: bool
    description: str
    corrects_period: str | None = None


@dataclass(slots=True)
class ChargingRun:
    period: str
    currency: str
    lines: list[RunLine] = field(default_factory=list)
    #: Actual cost of each charged service in the month.
    cost_of_service: dict[int, Decimal] = field(default_factory=dict)

    def lines_by_customer(self) -> dict[int, list[RunLine]]:
        grouped: dict[int, list[RunLine]] = defaultdict(list)
        for line in self.lines:
            grouped[line.customer_id].append(line)
        return dict(sorted(grouped.items()))


@dataclass(frozen=True, slots=True)
class _Group:
    """Customers of one service charged alike in a month: those ``within`` the set by
    their offering's price list, or everyone but the set by the service's policy."""

    model: str
    parameters: Mapping[str, Any]
    customers: frozenset[int]
    within: bool

    def charges(self, customer_id: int) -> bool:
        return (customer_id in self.customers) is self.within


async def compute_run(session: AsyncSession, books: Books, plugins: PluginHost,
                      period: Period, purpose: str = "dry_run") -> ChargingRun:
    """The charges of every charged service for a month, computed, not saved; counted,
    timed and its lines added up in the charging-run metrics under ``purpose``
    (``dry_run`` or ``issue``) and its outcome (ok, refused, failed)."""
    started = perf_counter()
    try:
        run = await _computed_run(session, books, plugins, period)
    except DomainError:
        CHARGING_RUNS.labels(purpose, "refused").inc()
        raise
    except Exception:
        CHARGING_RUNS.labels(purpose, "failed").inc()
        raise
    CHARGING_RUNS.labels(purpose, "ok").inc()
    CHARGING_RUN_SECONDS.labels(purpose).observe(perf_counter() - started)
    CHARGING_RUN_LINES.labels(purpose).inc(len(run.lines))
    return run


async def _computed_run(session: AsyncSession, books: Books, plugins: PluginHost,
                        period: Period) -> ChargingRun:
    month = str(period)
    organisation_id = books.organisation_id
    policies = (await session.execute(
        select(ChargingPolicy.service_id, ChargingPolicy.model, ChargingPolicy.parameters,
               Service.name, Service.planned_end_date)
        .join(Service, Service.id == ChargingPolicy.service_id)
        .where(ChargingPolicy.organisation_id == organisation_id,
               ChargingPolicy.model != DEFAULT_MODEL))).all()
    costs = dict((await session.execute(
        select(CostEntry.service_id, func.sum(CostEntry.amount))
        .where(CostEntry.organisation_id == organisation_id, CostEntry.period == month)
        .group_by(CostEntry.service_id))).all())
    usage: dict[int, list[ChargeableUsage]] = defaultdict(list)
    for service_id, customer_id, unit, total in (await session.execute(
            select(UsageRecord.service_id, UsageRecord.customer_id, UsageRecord.unit,
                   func.sum(UsageRecord.quantity))
            .where(UsageRecord.organisation_id == organisation_id,
                   UsageRecord.period == month)
            .group_by(UsageRecord.service_id, UsageRecord.customer_id, UsageRecord.unit)
            .order_by(UsageRecord.service_id, UsageRecord.customer_id, UsageRecord.unit)
    )):
        usage[service_id].append(ChargeableUsage(customer_id, total, unit))
    settings = await settings_by_plugin(session, organisation_id)

    subscribed = await subscribed_prices(session, organisation_id, month)
    own = {service_id: (model, parameters, name, end)
           for service_id, model, parameters, name, end in policies}
    for price in (price for by_customer in subscribed.values()
                  for price in by_customer.values()):
        own.setdefault(price.service_id, (DEFAULT_MODEL, {}, price.service_name,
                                          price.service_end))

    run = ChargingRun(month, books.currency)
    for service_id, (model, parameters, name, end) in sorted(own.items()):
        if end is not None and Period(end.year, end.month) < period:
            continue  # retiring or retired, ended before this month: nothing to charge
        # A customer subscribed to an offering of the service with a price list is
        # charged by that price list; everyone else by the service's own policy.
        prices = subscribed.get(service_id, {})
        groups = [_Group(model, parameters, frozenset(prices), within=False)]
        for offering_id in dict.fromkeys(price.offering_id for price in prices.values()):
            takers = [price for price in prices.values() if price.offering_id == offering_id]
            groups.append(_Group(takers[0].model, takers[0].parameters,
                                 frozenset(price.customer_id for price in takers),
                                 within=True))
        actual = costs.get(service_id, Decimal(0))
        charging_period = ChargingPeriod(service_id, name, month, books.currency, actual,
                                         tuple(usage.get(service_id, ())))
        for group in groups:
            registered = plugins.registry(CHARGING_MODELS).get(group.model)
            if registered is None or group.model == DEFAULT_MODEL:
                continue  # not loaded on this server, or a cost centre: not charged
            run.cost_of_service[service_id] = actual
            if not charging_period.usage:
                continue
            charges = await plugins.call(CHARGE, registered, charging_period,
                                         group.parameters, settings.get(registered.plugin, {}))
            run.lines.extend(
                RunLine(charge.customer_id, service_id, group.model, charge.amount,
                        registered.item.billed, charge.description)
                for charge in charges
                if charge.amount != 0 and group.charges(charge.customer_id))
    run.lines.extend(await _adjustments(session, organisation_id, month))
    return run


async def _adjustments(session: AsyncSession, organisation_id: int, month: str
                       ) -> list[RunLine]:
    rows = await session.scalars(
        select(ChargeAdjustment)
        .where(ChargeAdjustment.organisation_id == organisation_id,
               ChargeAdjustment.period == month)
        .order_by(ChargeAdjustment.id))
    return [RunLine(row.customer_id, row.service_id, "adjustment", row.amount, True,
                    f"adjustment for {row.corrects_period}: {row.reason}",
                    row.corrects_period)
            for row in rows]


async def dry_run(session: AsyncSession, actor: Actor, plugins: PluginHost, period: str
                  ) -> ChargingRun:
    """What issuing would charge for a month, without saving anything."""
    books = await books_of(session, actor.organisation_id)
    return await compute_run(session, books, plugins, Period.parse(period))


async def policies_of(*, session: AsyncSession, organisation_id: int, ids: Sequence[int]
                      ) -> list[ChargingPolicy | None]:
    """Each service's charging policy (None: a cost centre), in one statement."""
    rows = await session.scalars(select(ChargingPolicy).where(
        ChargingPolicy.organisation_id == organisation_id,
        ChargingPolicy.service_id.in_(set(ids))))
    by_service = {row.service_id: row for row in rows}
    return [by_service.get(service_id) for service_id in ids]
