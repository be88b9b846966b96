"""Moving a service between stages: the edges of the machine, their guards, what
entering and leaving a stage sets in motion, and the audit record."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain import audit, events
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.approvals import baseline
from spm_api.domain.approvals import rounds as approval
from spm_api.domain.finance.books import books_of, closed_periods
from spm_api.domain.finance.service_end import last_month
from spm_api.domain.portfolio.services import check_version, touch
from spm_api.domain.portfolio.stage_history import serialise_stage_history
from spm_api.domain.reads import load_owned
from spm_api.domain.reporting import verdicts
from spm_api.domain.sourcing import engagements
from spm_api.models import (
    ApprovalRound,
    Requirement,
    Service,
    StageChange,
    StakeholderInput,
    UsageRecord,
)
from spm_api.plugins.contracts import StageChanged
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.audit import AuditAction, AuditEntity
from spm_api.vocabulary.enums import ApprovalStatus, Necessity
from spm_api.vocabulary.errors import DomainError, ErrorCode, Problem, fail
from spm_api.vocabulary.stages import NEXT_STAGES, Stage


@dataclass
class Move:
    """One transition being attempted; guards may leave what they learned on it."""

    session: AsyncSession
    plugins: PluginHost
    service: Service
    to: Stage
    reason: str
    approval_round: ApprovalRound | None = None
    round_result: approval.RoundResult | None = None
    #: The last day a service starting RETIRING is delivered.
    planned_end_date: date | None = None


Guard = Callable[[Move], Awaitable[list[Problem]]]


async def _count(session: AsyncSession, model: type[Requirement | StakeholderInput],
                 service: Service, *conditions: object) -> int:
    query = select(func.count()).select_from(model).where(model.service_id == service.id)
    for condition in conditions:
        query = query.where(condition)  # type: ignore[arg-type]
    return int(await session.scalar(query) or 0)


async def _ready_for_analysis(move: Move) -> list[Problem]:
    problems = []
    if not move.service.objectives.strip():
        problems.append(Problem(ErrorCode.GUARD_FAILED,
                                "record the objectives before analysis", "objectives"))
    if await _count(move.session, Requirement, move.service) == 0:
        problems.append(Problem(ErrorCode.GUARD_FAILED,
                                "record at least one requirement before analysis",
                                "requirements"))
    return problems


async def _ready_for_approval(move: Move) -> list[Problem]:
    problems = []
    unjudged = await _count(move.session, Requirement, move.service,
                            Requirement.necessity == Necessity.UNASSESSED)
    if unjudged:
        problems.append(Problem(ErrorCode.GUARD_FAILED,
                                f"{unjudged} requirement(s) not yet judged necessary or not",
                                "requirements"))
    if await _count(move.session, StakeholderInput, move.service) == 0:
        problems.append(Problem(ErrorCode.GUARD_FAILED,
                                "record stakeholder input before approval",
                                "stakeholderInputs"))
    return problems


def _round_says(wanted: ApprovalStatus) -> Guard:
    """Leaving APPROVAL: the approval round, read under its lock, must say ``wanted``."""

    async def guard(move: Move) -> list[Problem]:
        if move.approval_round is None or move.round_result is None:
            move.approval_round = await approval.lock_open_round(move.session, move.service)
            move.round_result = (await approval.evaluate_round(
                move.session, move.plugins, move.service, move.approval_round)).result
        if move.round_result.status is wanted:
            return []
        return [Problem(ErrorCode.APPROVAL_REQUIRED,
                        f"the approval round is {move.round_result.status.value}, not "
                        f"{wanted.value}: {move.round_result.explanation()}", "to")]

    return guard


async def _reason_given(move: Move) -> list[Problem]:
    if move.reason.strip():
        return []
    return [Problem(ErrorCode.REASON_REQUIRED, "say why", "reason")]


async def _engagements_accepted(move: Move) -> list[Problem]:
    """Every contractor-sourced capability's contractor has accepted its engagement."""
    return await engagements.unaccepted(move.session, move.service.id)


async def _ready_to_go_live(move: Move) -> list[Problem]:
    """Every engagement accepted, and no stakeholder's dispute of the deliverable open."""
    return [*await _engagements_accepted(move),
            *await verdicts.open_disputes(move.session, move.service.id)]


async def _no_guard(_move: Move) -> list[Problem]:
    return []


async def _retirement_planned(move: Move) -> list[Problem]:
    """Starting to retire: why, and the last day the service is delivered. The date may
    be past (a shutdown recorded late), but not before usage already recorded."""
    problems = await _reason_given(move)
    end = move.planned_end_date
    if end is None:
        problems.append(Problem(ErrorCode.VALIDATION,
                                "give the planned end date: the last day the service is "
                                "delivered", "plannedEndDate"))
        return problems
    # The books' exclusive lock: usage being recorded now either committed before (and
    # is seen here) or waits, then finds the end date.
    await books_of(move.session, move.service.organisation_id, exclusive=True)
    used_until = await move.session.scalar(select(func.max(UsageRecord.period)).where(
        UsageRecord.service_id == move.service.id))
    if used_until is not None and used_until > f"{end.year:04d}-{end.month:02d}":
        problems.append(Problem(
            ErrorCode.GUARD_FAILED,
            f"usage of {used_until} is recorded already: the planned end date is in "
            f"{used_until} or later, not {end}", "plannedEndDate"))
    return problems


async def _retirement_complete(move: Move) -> list[Problem]:
    """Retired only once the books of its last month are closed and no contractor is
    still engaged (or still to be told of a cancellation)."""
    problems = []
    last = last_month(move.service)
    if last is not None and str(last) not in await closed_periods(
            move.session, move.service.organisation_id):
        problems.append(Problem(
            ErrorCode.GUARD_FAILED,
            f"{last}, the month of the planned end date {move.service.planned_end_date}, "
            f"is still open: close it first (closePeriod)", "plannedEndDate"))
    problems.extend(await engagements.still_open(move.session, move.service.id))
    return problems


#: The guard of each edge; an edge missing here is not a move the machine allows.
GUARDS: dict[tuple[Stage, Stage], Guard] = {
    (Stage.DEFINITION, Stage.ANALYSIS): _ready_for_analysis,
    (Stage.DEFINITION, Stage.WITHDRAWN): _reason_given,
    (Stage.ANALYSIS, Stage.DEFINITION): _reason_given,
    (Stage.ANALYSIS, Stage.APPROVAL): _ready_for_approval,
    (Stage.ANALYSIS, Stage.WITHDRAWN): _reason_given,
    (Stage.APPROVAL, Stage.CHARTERED): _round_says(ApprovalStatus.APPROVED),
    (Stage.APPROVAL, Stage.REJECTED): _round_says(ApprovalStatus.REJECTED),
    (Stage.CHARTERED, Stage.LIVE): _ready_to_go_live,
    (Stage.CHARTERED, Stage.CANCELLED): _reason_given,
    (Stage.LIVE, Stage.RETIRING): _retirement_planned,
    (Stage.RETIRING, Stage.RETIRED): _retirement_complete,
    # Reworking a rejected proposal: the next APPROVAL opens a new round.
    (Stage.REJECTED, Stage.DEFINITION): _no_guard,
}
assert set(GUARDS) == {(a, b) for a, nexts in NEXT_STAGES.items() for b in nexts}


async def transition_service(
    session: AsyncSession,
    actor: Actor,
    plugins: PluginHost,
    service_id: int,
    to: Stage,
    *,
    reason: str = "",
    expected_version: int | None = None,
    planned_end_date: date | None = None,
) -> tuple[Service, StageChange]:
    """Move the service to ``to`` when the edge exists and its guard passes.
    ``planned_end_date`` is for the move to RETIRING alone."""
    actor.require(Permission.TRANSITION_SERVICE)
    service = await load_owned(session, Service, actor.organisation_id, service_id, "serviceId")
    check_version(service, expected_version)
    if planned_end_date is not None and to is not Stage.RETIRING:
        raise fail(ErrorCode.VALIDATION,
                   "plannedEndDate is given only when a service starts RETIRING",
                   "plannedEndDate")
    return await move_service(Move(session, plugins, service, to, reason,
                                   planned_end_date=planned_end_date), actor)


async def move_service(move: Move, actor: Actor) -> tuple[Service, StageChange]:
    """Check the edge's guard, then move, keeping the records the stages need.
    Callers have checked that ``actor`` may cause this move."""
    service, origin = move.service, move.service.stage
    guard = GUARDS.get((origin, move.to))
    if guard is None:
        allowed = ", ".join(sorted(NEXT_STAGES[origin])) or "nothing"
        raise fail(ErrorCode.INVALID_TRANSITION,
                   f"{origin.value} cannot move to {move.to.value}; it may move to {allowed}",
                   "to")
    problems = await guard(move)
    if problems:
        raise DomainError(*problems)
    service.stage = move.to
    touch(service)
    await move.session.flush()
    await serialise_stage_history(move.session, service.organisation_id)
    change = StageChange(
        organisation_id=service.organisation_id,
        service_id=service.id,
        from_stage=origin,
        to_stage=move.to,
        actor_id=actor.person_id,
        reason=move.reason.strip(),
    )
    move.session.add(change)
    await move.session.flush()
    audit.record(move.session, actor, AuditEntity.SERVICE, service.id,
                 AuditAction.STAGE_CHANGED, before={"stage": origin.value},
                 after={"stage": move.to.value, "reason": change.reason,
                        "stageChangeId": change.id})
    await _enter_and_leave(move, change)
    events.record(move.session, StageChanged(
        change_id=change.id, organisation_id=service.organisation_id, service_id=service.id,
        service_name=service.name, from_stage=origin, to_stage=move.to,
        actor_id=actor.person_id, reason=change.reason, at=change.at,
    ))
    return service, change


async def _enter_and_leave(move: Move, change: StageChange) -> None:
    session, service = move.session, move.service
    if move.approval_round is not None and move.round_result is not None:
        approval.close_round(move.approval_round, move.round_result)
    if move.to is Stage.APPROVAL:
        approval.open_round(session, service)
    if move.to is Stage.CHARTERED:
        session.add(baseline.freeze(service, await baseline.plan_of(session, service), change))
        # The outbox: written with the stage change, delivered after the commit.
        await engagements.open_engagements(session, service)
    if move.to is Stage.CANCELLED:
        # Cancellations go the requests' way: written now, delivered after the commit.
        await engagements.cancel_engagements(session, service, change.reason)
    if move.to is Stage.RETIRING:
        service.planned_end_date = move.planned_end_date
        events.record(session, events.ServiceRetiring(
            service.organisation_id, service.id, change.id))
    await session.flush()
