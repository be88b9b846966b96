"""The baseline frozen at chartering, and the deviations from it reported back to the
stakeholders who affirm the delivered outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain import reads
from spm_api.domain.finance.business_case import monthly_budgets
from spm_api.models import Baseline, Capability, Requirement, Service, StageChange


class DeviationAspect(StrEnum):
    OBJECTIVES = "OBJECTIVES"
    SUMMARY = "SUMMARY"
    ESTIMATED_COST = "ESTIMATED_COST"
    BUDGET = "BUDGET"
    REQUIREMENT = "REQUIREMENT"


class DeviationKind(StrEnum):
    ADDED = "ADDED"
    REMOVED = "REMOVED"
    CHANGED = "CHANGED"


@dataclass(frozen=True, slots=True)
class Deviation:
    """One difference between the chartered baseline and the service as it is now."""

    aspect: DeviationAspect
    kind: DeviationKind
    subject: str
    baseline: str | None
    current: str | None
    description: str


def _money(value: Decimal | None) -> str | None:
    """An amount as text with at least cents and no stored padding: 120000.50."""
    if value is None:
        return None
    cents = value.quantize(Decimal("0.01"))
    return str(cents if cents == value else value.normalize())


def _same_amount(before: Any, after: Any) -> bool:
    """Equal as numbers, so 80000.00 and 80000 do not differ."""
    if isinstance(before, str) and isinstance(after, str):
        return Decimal(before) == Decimal(after)
    return bool(before == after)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a service is planned with besides its own fields: its requirements, its
    capabilities and its budget (all months, all categories)."""

    requirements: Sequence[Requirement]
    capabilities: Sequence[Capability] = ()
    budget: Decimal = Decimal(0)


async def plan_of(session: AsyncSession, service: Service) -> Plan:
    [requirements] = await reads.children_of(session, Requirement, service.organisation_id,
                                             [service.id])
    [capabilities] = await reads.children_of(session, Capability, service.organisation_id,
                                             [service.id])
    [budget] = await monthly_budgets(session=session, organisation_id=service.organisation_id,
                                     ids=[service.id])
    return Plan(requirements, capabilities, sum((amount for _, amount in budget), Decimal(0)))


def snapshot(service: Service, plan: Plan) -> dict[str, Any]:
    """What chartering agrees to, as JSON."""
    return {
        "objectives": service.objectives,
        "summary": service.summary,
        "estimated_cost": _money(service.estimated_cost),
        "budget": _money(plan.budget),
        "requirements": [
            {"id": r.id, "text": r.text, "necessity": r.necessity.value}
            for r in sorted(plan.requirements, key=lambda r: r.id)
        ],
        "capabilities": [
            {"id": c.id, "name": c.name, "sourcing": c.sourcing.value,
             "estimated_cost": _money(c.estimated_cost)}
            for c in sorted(plan.capabilities, key=lambda c: c.id)
        ],
    }


def freeze(service: Service, plan: Plan, change: StageChange) -> Baseline:
    return Baseline(organisation_id=service.organisation_id, service_id=service.id,
                    stage_change_id=change.id, content=snapshot(service, plan))


AMOUNTS = frozenset({"estimated_cost", "budget"})


def deviations(baseline: Mapping[str, Any], service: Service, plan: Plan
               ) -> list[Deviation]:
    """Compare the frozen baseline with the service now, field by field. A baseline
    frozen before budgets were part of it reports no budget deviation."""
    now = snapshot(service, plan)
    found: list[Deviation] = []
    for aspect, key, label in (
        (DeviationAspect.OBJECTIVES, "objectives", "objectives"),
        (DeviationAspect.SUMMARY, "summary", "summary"),
        (DeviationAspect.ESTIMATED_COST, "estimated_cost", "estimated cost"),
        (DeviationAspect.BUDGET, "budget", "budget"),
    ):
        if key not in baseline:
            continue
        before, after = baseline.get(key), now[key]
        if not (_same_amount(before, after) if key in AMOUNTS else before == after):
            found.append(Deviation(aspect, DeviationKind.CHANGED, label, before, after,
                                   f"the {label} changed since chartering"))
    before_reqs = {r["id"]: r for r in baseline.get("requirements", [])}
    after_reqs = {r["id"]: r for r in now["requirements"]}
    for rid, req in before_reqs.items():
        if rid not in after_reqs:
            found.append(Deviation(DeviationAspect.REQUIREMENT, DeviationKind.REMOVED,
                                   req["text"], req["text"], None,
                                   "a chartered requirement was dropped"))
        elif after_reqs[rid] != req:
            found.append(Deviation(DeviationAspect.REQUIREMENT, DeviationKind.CHANGED,
                                   req["text"], _describe(req), _describe(after_reqs[rid]),
                                   "a chartered requirement changed"))
    for rid, req in after_reqs.items():
        if rid not in before_reqs:
            found.append(Deviation(DeviationAspect.REQUIREMENT, DeviationKind.ADDED,
                                   req["text"], None, req["text"],
                                   "a requirement was added after chartering"))
    return found


def _describe(requirement: Mapping[str, Any]) -> str:
    return f"{requirement['text']} ({requirement['necessity']})"
