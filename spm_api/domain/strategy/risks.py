"""The risk register of a service: raising, updating and closing risks, and the exposure
(likelihood x impact) the ranking weighs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.portfolio.services import touch
from spm_api.domain.reads import load_owned
from spm_api.models import Person, Risk, Service
from spm_api.vocabulary.enums import RiskStatus
from spm_api.vocabulary.errors import DomainError, ErrorCode, Problem, fail
from spm_api.vocabulary.stages import CLOSED_STAGES
from spm_api.vocabulary.validation import optional_text, required_text

#: The largest exposure of one risk: certain (5) and severe (5).
MAX_EXPOSURE = 25


@dataclass(frozen=True, slots=True)
class Exposure:
    """A service's risks that still count (every status but CLOSED)."""

    risks: int = 0
    total: int = 0
    highest: int = 0


def register(risks: Sequence[Risk], include_closed: bool = False) -> list[Risk]:
    """A service's risks as the register lists them: highest exposure first, then oldest
    first; CLOSED ones only when asked for."""
    shown = [risk for risk in risks if include_closed or risk.status is not RiskStatus.CLOSED]
    return sorted(shown, key=lambda risk: (-risk.exposure, risk.id))


def exposure_of(risks: Sequence[Risk]) -> Exposure:
    counted = [risk.exposure for risk in risks if risk.status is not RiskStatus.CLOSED]
    return Exposure(len(counted), sum(counted), max(counted, default=0))


async def exposures(session: AsyncSession, organisation_id: int, ids: Sequence[int]
                    ) -> dict[int, Exposure]:
    """Each service's exposure in one grouped statement (services without risks are
    left out)."""
    if not ids:
        return {}
    product = Risk.likelihood * Risk.impact
    rows = await session.execute(
        select(Risk.service_id, func.count(), func.sum(product), func.max(product))
        .where(Risk.organisation_id == organisation_id, Risk.service_id.in_(set(ids)),
               Risk.status != RiskStatus.CLOSED)
        .group_by(Risk.service_id))
    return {service_id: Exposure(int(count), int(total or 0), int(highest or 0))
            for service_id, count, total, highest in rows}


def _scale(value: int | None, field: str, problems: list[Problem]) -> int | None:
    if value is not None and not 1 <= value <= 5:
        problems.append(Problem(ErrorCode.VALIDATION,
                                f"{field} is rated 1 (lowest) to 5 (highest), not {value}",
                                field))
    return value


async def _service_open_to_change(session: AsyncSession, actor: Actor, service_id: int,
                                  field: str) -> Service:
    service = await load_owned(session, Service, actor.organisation_id, service_id, field)
    if service.stage in CLOSED_STAGES:
        raise fail(ErrorCode.STAGE_LOCKED, f"the service is {service.stage.value}: its "
                   f"risk register no longer changes", field)
    return service


async def add_risk(session: AsyncSession, actor: Actor, service_id: int, *,
                   description: str, likelihood: int, impact: int,
                   owner_id: int | None = None, mitigation: str = "") -> Risk:
    """Raise a risk on the service, OPEN."""
    actor.require(Permission.MANAGE_RISKS)
    service = await _service_open_to_change(session, actor, service_id, "serviceId")
    problems: list[Problem] = []
    _scale(likelihood, "likelihood", problems)
    _scale(impact, "impact", problems)
    try:
        text = required_text(description, "description", 2000)
    except DomainError as refused:
        problems.extend(refused.problems)
    if problems:
        raise DomainError(*problems)
    if owner_id is not None:
        await load_owned(session, Person, actor.organisation_id, owner_id, "ownerId")
    risk = Risk(organisation_id=actor.organisation_id, service_id=service.id,
                description=text, likelihood=likelihood, impact=impact, owner_id=owner_id,
                mitigation=optional_text(mitigation, "mitigation", 4000),
                status=RiskStatus.OPEN, raised_by_id=actor.person_id)
    session.add(risk)
    touch(service)
    await session.flush()
    return risk


async def update_risk(session: AsyncSession, actor: Actor, risk_id: int, *,
                      description: str | None = None, likelihood: int | None = None,
                      impact: int | None = None, owner_id: int | None = None,
                      mitigation: str | None = None, status: RiskStatus | None = None
                      ) -> Risk:
    """Change what is known of a risk; fields left as None stay as they are. A closed
    risk is kept as it was closed (``RISK_CLOSED``); closing goes through ``close_risk``."""
    actor.require(Permission.MANAGE_RISKS)
    risk = await load_owned(session, Risk, actor.organisation_id, risk_id, "riskId")
    if risk.status is RiskStatus.CLOSED:
        raise fail(ErrorCode.RISK_CLOSED, "the risk is closed; raise a new one if it "
                   "returns", "riskId")
    service = await _service_open_to_change(session, actor, risk.service_id, "riskId")
    if status is RiskStatus.CLOSED:
        raise fail(ErrorCode.VALIDATION, "close a risk with closeRisk, giving the reason",
                   "status")
    problems: list[Problem] = []
    _scale(likelihood, "likelihood", problems)
    _scale(impact, "impact", problems)
    if description is not None:
        try:
            description = required_text(description, "description", 2000)
        except DomainError as refused:
            problems.extend(refused.problems)
    if problems:
        raise DomainError(*problems)
    if owner_id is not None:
        await load_owned(session, Person, actor.organisation_id, owner_id, "ownerId")
        risk.owner_id = owner_id
    if description is not None:
        risk.description = description
    if likelihood is not None:
        risk.likelihood = likelihood
    if impact is not None:
        risk.impact = impact
    if mitigation is not None:
        risk.mitigation = optional_text(mitigation, "mitigation", 4000)
    if status is not None:
        risk.status = status
    risk.updated_at = utcnow()
    touch(service)
    await session.flush()
    return risk


async def close_risk(session: AsyncSession, actor: Actor, risk_id: int, reason: str
                     ) -> Risk:
    """Close a risk for good, with the reason; it stays in the register, counting in no
    exposure."""
    actor.require(Permission.MANAGE_RISKS)
    risk = await load_owned(session, Risk, actor.organisation_id, risk_id, "riskId")
    if risk.status is RiskStatus.CLOSED:
        raise fail(ErrorCode.RISK_CLOSED, "the risk is closed already", "riskId")
    service = await _service_open_to_change(session, actor, risk.service_id, "riskId")
    if not reason.strip():
        raise fail(ErrorCode.REASON_REQUIRED, "say why the risk is closed", "reason")
    risk.closing_reason = required_text(reason, "reason", 2000)
    risk.status = RiskStatus.CLOSED
    risk.closed_at = risk.updated_at = utcnow()
    touch(service)
    await session.flush()
    return risk
