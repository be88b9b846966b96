"""What a stakeholder report says, gathered as JSON: the baseline and the service now,
the deviations, the KPIs with their health, the stakeholders and their affirmations.

The content is a plain dict of strings, numbers, lists and nulls, written once into
``StakeholderReport.content`` and never recomputed, so a report reads the same however
the service, its books or the health model change afterwards. Amounts are decimal
strings in ``currency``, the organisation's currency when the report was issued.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain import reads
from spm_api.domain.approvals import baseline
from spm_api.domain.approvals.rounds import settings_by_plugin
from spm_api.domain.stewardship import health
from spm_api.domain.stewardship.readings import Current, readings_of_services
from spm_api.models import (
    Affirmation,
    Baseline,
    CostEntry,
    Kpi,
    Organisation,
    Person,
    Service,
    Stakeholder,
)
from spm_api.plugins.contracts import HealthAssessment
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary import money

#: Bumped when the shape of the content changes; readers of older reports check it.
FORMAT = 1


def amount(value: Decimal | None, currency: str) -> str | None:
    """An amount as text in the currency's minor unit: 1250.00, or 1250 for JPY."""
    return None if value is None else str(money.rounded(value, currency))


def _frozen_amount(value: Any, currency: str) -> str | None:
    return None if value is None else amount(Decimal(value), currency)


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


async def actual_spend(session: AsyncSession, service: Service) -> Decimal:
    """Every cost booked against the service so far, summed in SQL."""
    total = await session.scalar(select(func.sum(CostEntry.amount)).where(
        CostEntry.organisation_id == service.organisation_id,
        CostEntry.service_id == service.id))
    return total if total is not None else Decimal(0)


def _baseline_part(frozen: Baseline | None, currency: str) -> dict[str, Any] | None:
    if frozen is None:
        return None
    content = frozen.content
    return {
        "frozen_at": _when(frozen.frozen_at),
        "objectives": content.get("objectives", ""),
        "summary": content.get("summary", ""),
        "estimated_cost": _frozen_amount(content.get("estimated_cost"), currency),
        "budget": _frozen_amount(content.get("budget"), currency),
        "requirements": [{"text": r["text"], "necessity": r["necessity"]}
                         for r in content.get("requirements", [])],
    }


def _current_part(service: Service, plan: baseline.Plan, spent: Decimal, currency: str
                  ) -> dict[str, Any]:
    return {
        "objectives": service.objectives,
        "summary": service.summary,
        "estimated_cost": amount(service.estimated_cost, currency),
        "budget": amount(plan.budget, currency),
        "actual_spend": amount(spent, currency),
        "requirements": [{"text": r.text, "necessity": r.necessity.value}
                         for r in sorted(plan.requirements, key=lambda r: r.id)],
    }


def _deviation(deviation: baseline.Deviation) -> dict[str, Any]:
    return {"aspect": deviation.aspect.value, "kind": deviation.kind.value,
            "subject": deviation.subject, "baseline": deviation.baseline,
            "current": deviation.current, "description": deviation.description}


def _kpis(pairs: Sequence[tuple[Kpi, Current | None]], assessment: HealthAssessment | None
          ) -> list[dict[str, Any]]:
    judged = {} if assessment is None else {j.kpi_id: j for j in assessment.judgements}
    listed = []
    for kpi, current in pairs:
        judgement = judged.get(kpi.id)
        listed.append({
            "name": kpi.name, "unit": kpi.unit, "kind": kpi.kind.value,
            "direction": kpi.direction.value, "target": str(kpi.target),
            "warning_threshold": str(kpi.warning_threshold),
            "breach_threshold": str(kpi.breach_threshold),
            "value": None if current is None else str(current.value),
            "measured": None if current is None else current.when,
            "status": None if judgement is None else judgement.status.value,
            "explanation": None if judgement is None else judgement.explanation,
        })
    return listed


async def _names(session: AsyncSession, organisation_id: int, ids: set[int]
                 ) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Person.id, Person.name).where(
        Person.organisation_id == organisation_id, Person.id.in_(ids)))
    return {person_id: name for person_id, name in rows}


async def gather(session: AsyncSession, plugins: PluginHost, service: Service
                 ) -> dict[str, Any]:
    """The report of ``service`` as it stands now, without its number and issuer. The
    health model is asked here, before the caller writes anything."""
    organisation_id = service.organisation_id
    organisation = await session.get(Organisation, organisation_id)
    assert organisation is not None
    currency = organisation.currency
    frozen = await session.scalar(select(Baseline).where(Baseline.service_id == service.id))
    plan = await baseline.plan_of(session, service)
    deviations = ([] if frozen is None
                  else baseline.deviations(frozen.content, service, plan))
    [pairs] = await readings_of_services(session=session, organisation_id=organisation_id,
                                         ids=[service.id])
    assessment = None
    if health.has_health(service.stage):
        assessment = await health.assess(
            plugins, health.readings_of(service, pairs),
            await settings_by_plugin(session, organisation_id))
    [stakeholders] = await reads.children_of(session, Stakeholder, organisation_id,
                                             [service.id])
    [affirmations] = await reads.children_of(session, Affirmation, organisation_id,
                                             [service.id])
    names = await _names(session, organisation_id,
                         {s.person_id for s in stakeholders}
                         | {a.person_id for a in affirmations}
                         | {a.resolved_by_id for a in affirmations
                            if a.resolved_by_id is not None})
    return {
        "format": FORMAT,
        "service": {"id": service.id, "name": service.name, "stage": service.stage.value},
        "currency": currency,
        "baseline": _baseline_part(frozen, currency),
        "current": _current_part(service, plan, await actual_spend(session, service),
                                 currency),
        "deviations": [_deviation(d) for d in deviations],
        "kpis": _kpis(pairs, assessment),
        "health": None if assessment is None else {
            "status": assessment.status.value, "explanation": assessment.explanation,
            "model": health.model_name(plugins)},
        "stakeholders": [{"name": names.get(s.person_id, ""), "role": s.role.value}
                         for s in stakeholders],
        "affirmations": [{
            "id": a.id, "person": names.get(a.person_id, ""), "verdict": a.verdict.value,
            "comment": a.comment, "at": _when(a.at), "deviation_count": a.deviation_count,
            "resolution": a.resolution,
            "resolved_by": None if a.resolved_by_id is None else names.get(a.resolved_by_id),
            "resolved_at": _when(a.resolved_at),
        } for a in affirmations],
    }
