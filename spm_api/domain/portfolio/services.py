"""Commands on a service and its requirements and stakeholder input.

Every command takes the acting person, checks their permission, works inside
their organisation only, and bumps the service's ``version`` so that a client
holding an older version learns of the change (optimistic locking).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain import audit, events
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.finance.books import books_of
from spm_api.domain.portfolio.stage_history import serialise_stage_history
from spm_api.domain.reads import load_owned
from spm_api.models import (
    BusinessCaseYear,
    Person,
    Requirement,
    Service,
    StageChange,
    StakeholderInput,
)
from spm_api.plugins.contracts import StageChanged
from spm_api.vocabulary.audit import AuditAction, AuditEntity
from spm_api.vocabulary.enums import InvestmentCategory, Necessity, Position
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.money import Money
from spm_api.vocabulary.stages import CLOSED_STAGES, Stage
from spm_api.vocabulary.validation import optional_text, required_text

#: Requirements are recorded while the proposal is being defined or analysed.
#: Requirements are gathered in DEFINITION and ANALYSIS; after chartering a new one is a
#: change request, reported as a deviation from the baseline. While the decision makers
#: vote, the proposal they vote on stays as it is.
REQUIREMENT_STAGES = frozenset({Stage.DEFINITION, Stage.ANALYSIS, Stage.CHARTERED, Stage.LIVE})

#: What the audit trail records of a service's description (its stage: stage changes).
AUDITED_FIELDS = ("name", "summary", "objectives", "owner_id", "investment_category",
                  "estimated_cost", "expected_benefit")
#: ... of a requirement.
AUDITED_REQUIREMENT_FIELDS = ("service_id", "text", "necessity", "judgement_reason")




def check_version(service: Service, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != service.version:
        raise fail(
            ErrorCode.CONFLICT,
            f"the service changed since version {expected_version}; it is now at "
            f"version {service.version}",
            "expectedVersion",
        )


def touch(service: Service) -> None:
    """Mark the aggregate changed: the flush bumps ``version`` and refuses a stale write."""
    service.updated_at = utcnow()


def _refuse_when_closed(service: Service) -> None:
    if service.stage in CLOSED_STAGES:
        raise fail(
            ErrorCode.STAGE_LOCKED, f"the service is {service.stage.value} and cannot change"
        )


async def _refuse_when_the_case_decides(session: AsyncSession, service: Service,
                                        field: str) -> None:
    """A service with a multi-year business case has its estimates from the case."""
    if await session.scalar(select(BusinessCaseYear.id).where(
            BusinessCaseYear.service_id == service.id).limit(1)) is not None:
        raise fail(ErrorCode.VALIDATION, "the estimated cost and expected benefit are the "
                   "totals of the service's business case: change the case "
                   "(setBusinessCase)", field)


async def _check_owner(session: AsyncSession, actor: Actor, owner_id: int) -> None:
    await load_owned(session, Person, actor.organisation_id, owner_id, "ownerId")


async def _check_unique_name(
    session: AsyncSession, actor: Actor, name: str, except_id: int | None = None
) -> None:
    query = select(Service.id).where(
        Service.organisation_id == actor.organisation_id, Service.name == name
    )
    if except_id is not None:
        query = query.where(Service.id != except_id)
    if await session.scalar(query) is not None:
        raise fail(ErrorCode.CONFLICT, f"a service named {name!r} already exists", "name")


async def create_service(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    investment_category: InvestmentCategory,
    summary: str = "",
    objectives: str = "",
    owner_id: int | None = None,
    estimated_cost: Money | None = None,
    expected_benefit: Money | None = None,
) -> Service:
    """Record a new proposal in DEFINITION, with its first stage-change record."""
    actor.require(Permission.EDIT_SERVICE)
    books = await books_of(session, actor.organisation_id, lock=True)
    name = required_text(name, "name", 200)
    await _check_unique_name(session, actor, name)
    owner = actor.person_id if owner_id is None else owner_id
    await _check_owner(session, actor, owner)
    service = Service(
        organisation_id=actor.organisation_id,
        name=name,
        summary=optional_text(summary, "summary", 10_000),
        objectives=optional_text(objectives, "objectives", 10_000),
        owner_id=owner,
        investment_category=investment_category,
        estimated_cost=books.optional_cost(estimated_cost, "estimatedCost"),
        expected_benefit=books.optional_cost(expected_benefit, "expectedBenefit"),
        stage=Stage.DEFINITION,
    )
    session.add(service)
    await session.flush()
    await serialise_stage_history(session, actor.organisation_id)
    change = StageChange(
        organisation_id=actor.organisation_id,
        service_id=service.id,
        from_stage=None,
        to_stage=Stage.DEFINITION,
        actor_id=actor.person_id,
        reason="proposed",
    )
    session.add(change)
    await session.flush()
    audit.record(session, actor, AuditEntity.SERVICE, service.id, AuditAction.CREATED,
                 after={**audit.fields_of(service, AUDITED_FIELDS), "stage": service.stage})
    events.record(session, StageChanged(
        change_id=change.id, organisation_id=service.organisation_id, service_id=service.id,
        service_name=service.name, from_stage=None, to_stage=Stage.DEFINITION,
        actor_id=actor.person_id, reason=change.reason, at=change.at))
    return service


async def update_service(
    session: AsyncSession,
    actor: Actor,
    service_id: int,
    *,
    expected_version: int | None = None,
    name: str | None = None,
    summary: str | None = None,
    objectives: str | None = None,
    owner_id: int | None = None,
    investment_category: InvestmentCategory | None = None,
    estimated_cost: Money | None = None,
    expected_benefit: Money | None = None,
) -> Service:
    """Change the description of a service; fields left as None stay as they are."""
    actor.require(Permission.EDIT_SERVICE)
    service = await load_owned(session, Service, actor.organisation_id, service_id, "serviceId")
    check_version(service, expected_version)
    _refuse_when_closed(service)
    before = audit.fields_of(service, AUDITED_FIELDS)
    if name is not None:
        name = required_text(name, "name", 200)
        await _check_unique_name(session, actor, name, except_id=service.id)
        service.name = name
    if summary is not None:
        service.summary = optional_text(summary, "summary", 10_000)
    if objectives is not None:
        service.objectives = optional_text(objectives, "objectives", 10_000)
    if owner_id is not None:
        await _check_owner(session, actor, owner_id)
        service.owner_id = owner_id
    if investment_category is not None:
        service.investment_category = investment_category
    if estimated_cost is not None or expected_benefit is not None:
        await _refuse_when_the_case_decides(session, service,
                                            "estimatedCost" if estimated_cost is not None
                                            else "expectedBenefit")
        books = await books_of(session, actor.organisation_id, lock=True)
        if estimated_cost is not None:
            service.estimated_cost = books.optional_cost(estimated_cost, "estimatedCost")
        if expected_benefit is not None:
            service.expected_benefit = books.optional_cost(expected_benefit, "expectedBenefit")
    audit.record_changes(session, actor, AuditEntity.SERVICE, service.id, before,
                         audit.fields_of(service, AUDITED_FIELDS))
    touch(service)
    await session.flush()
    return service


async def add_requirement(
    session: AsyncSession, actor: Actor, service_id: int, text: str
) -> Requirement:
    actor.require(Permission.EDIT_SERVICE)
    service = await load_owned(session, Service, actor.organisation_id, service_id, "serviceId")
    if service.stage not in REQUIREMENT_STAGES:
        raise fail(
            ErrorCode.STAGE_LOCKED,
            f"requirements are recorded in DEFINITION, ANALYSIS, CHARTERED or LIVE, "
            f"not {service.stage.value}",
            "serviceId",
        )
    requirement = Requirement(
        organisation_id=actor.organisation_id,
        service_id=service.id,
        text=required_text(text, "text", 10_000),
        created_by_id=actor.person_id,
    )
    session.add(requirement)
    touch(service)
    await session.flush()
    audit.record(session, actor, AuditEntity.REQUIREMENT, requirement.id, AuditAction.CREATED,
                 after=audit.fields_of(requirement, AUDITED_REQUIREMENT_FIELDS))
    return requirement


async def assess_requirement(
    session: AsyncSession,
    actor: Actor,
    requirement_id: int,
    necessity: Necessity,
    reason: str,
) -> Requirement:
    """Judge a requirement NECESSARY or NOT_NECESSARY during analysis, saying why."""
    actor.require(Permission.ASSESS_REQUIREMENT)
    requirement = await load_owned(session, Requirement, actor.organisation_id, requirement_id,
                                   "requirementId")
    if necessity is Necessity.UNASSESSED:
        raise fail(ErrorCode.VALIDATION, "judge it NECESSARY or NOT_NECESSARY", "necessity")
    service = await load_owned(session, Service, actor.organisation_id, requirement.service_id,
                               "serviceId")
    if service.stage is not Stage.ANALYSIS:
        raise fail(
            ErrorCode.STAGE_LOCKED,
            f"requirements are judged in ANALYSIS, not {service.stage.value}",
            "requirementId",
        )
    before = audit.fields_of(requirement, AUDITED_REQUIREMENT_FIELDS)
    requirement.necessity = necessity
    requirement.judgement_reason = required_text(reason, "reason", 10_000)
    requirement.judged_by_id = actor.person_id
    requirement.judged_at = utcnow()
    audit.record_changes(session, actor, AuditEntity.REQUIREMENT, requirement.id, before,
                         audit.fields_of(requirement, AUDITED_REQUIREMENT_FIELDS))
    touch(service)
    await session.flush()
    return requirement


async def add_stakeholder_input(
    session: AsyncSession,
    actor: Actor,
    service_id: int,
    position: Position,
    comment: str,
) -> StakeholderInput:
    actor.require(Permission.GIVE_INPUT)
    service = await load_owned(session, Service, actor.organisation_id, service_id, "serviceId")
    _refuse_when_closed(service)
    stakeholder_input = StakeholderInput(
        organisation_id=actor.organisation_id,
        service_id=service.id,
        author_id=actor.person_id,
        position=position,
        comment=required_text(comment, "comment", 10_000),
    )
    session.add(stakeholder_input)
    touch(service)
    await session.flush()
    audit.record(session, actor, AuditEntity.STAKEHOLDER_INPUT, stakeholder_input.id,
                 AuditAction.CREATED, after=audit.fields_of(
                     stakeholder_input, ("service_id", "position", "comment")))
    return stakeholder_input
