"""Moving a service between stages: the edges of the machine, their guards, the audit record."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor, Permission
from spm_api.domain.enums import Necessity
from spm_api.domain.errors import DomainError, ErrorCode, Problem, fail
from spm_api.domain.services import check_version, load_service, touch
from spm_api.domain.stages import NEXT_STAGES, Stage
from spm_api.models import Requirement, Service, StageChange, StakeholderInput

Guard = Callable[[AsyncSession, Service, str], Awaitable[list[Problem]]]


async def _count(session: AsyncSession, model: type[Requirement | StakeholderInput],
                 service: Service, *conditions: object) -> int:
    query = select(func.count()).select_from(model).where(model.service_id == service.id)
    for condition in conditions:
        query = query.where(condition)  # type: ignore[arg-type]
    return int(await session.scalar(query) or 0)


async def _ready_for_analysis(session: AsyncSession, service: Service, _reason: str
                              ) -> list[Problem]:
    problems = []
    if not service.objectives.strip():
        problems.append(Problem(ErrorCode.GUARD_FAILED,
                                "record the objectives before analysis", "objectives"))
    if await _count(session, Requirement, service) == 0:
        problems.append(Problem(ErrorCode.GUARD_FAILED,
                                "record at least one requirement before analysis",
                                "requirements"))
    return problems


async def _ready_for_approval(session: AsyncSession, service: Service, _reason: str
                              ) -> list[Problem]:
    problems = []
    unjudged = await _count(session, Requirement, service,
                            Requirement.necessity == Necessity.UNASSESSED)
    if unjudged:
        problems.append(Problem(ErrorCode.GUARD_FAILED,
                                f"{unjudged} requirement(s) not yet judged necessary or not",
                                "requirements"))
    if await _count(session, StakeholderInput, service) == 0:
        problems.append(Problem(ErrorCode.GUARD_FAILED,
                                "record stakeholder input before approval",
                                "stakeholderInputs"))
    return problems


async def _decided_by_approval(_session: AsyncSession, service: Service, _reason: str
                               ) -> list[Problem]:
    return [Problem(ErrorCode.APPROVAL_REQUIRED,
                    "leaving APPROVAL is decided by the decision makers' approval round, "
                    "which is not open for voting yet", "to")]


async def _reason_given(_session: AsyncSession, _service: Service, reason: str
                        ) -> list[Problem]:
    if reason.strip():
        return []
    return [Problem(ErrorCode.REASON_REQUIRED, "say why", "reason")]


async def _nothing_to_check(_session: AsyncSession, _service: Service, _reason: str
                            ) -> list[Problem]:
    return []


#: The guard of each edge; an edge missing here is not a move the machine allows.
GUARDS: dict[tuple[Stage, Stage], Guard] = {
    (Stage.DEFINITION, Stage.ANALYSIS): _ready_for_analysis,
    (Stage.ANALYSIS, Stage.DEFINITION): _reason_given,
    (Stage.ANALYSIS, Stage.APPROVAL): _ready_for_approval,
    (Stage.APPROVAL, Stage.CHARTERED): _decided_by_approval,
    (Stage.APPROVAL, Stage.REJECTED): _decided_by_approval,
    (Stage.CHARTERED, Stage.LIVE): _nothing_to_check,
    (Stage.LIVE, Stage.RETIRED): _reason_given,
}
assert set(GUARDS) == {(a, b) for a, nexts in NEXT_STAGES.items() for b in nexts}


async def transition_service(
    session: AsyncSession,
    actor: Actor,
    service_id: int,
    to: Stage,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> tuple[Service, StageChange]:
    """Move the service to ``to`` when the edge exists and its guard passes."""
    actor.require(Permission.TRANSITION_SERVICE)
    service = await load_service(session, actor, service_id)
    check_version(service, expected_version)
    origin = service.stage
    guard = GUARDS.get((origin, to))
    if guard is None:
        allowed = ", ".join(sorted(NEXT_STAGES[origin])) or "nothing"
        raise fail(ErrorCode.INVALID_TRANSITION,
                   f"{origin.value} cannot move to {to.value}; it may move to {allowed}", "to")
    problems = await guard(session, service, reason)
    if problems:
        raise DomainError(*problems)
    service.stage = to
    touch(service)
    change = StageChange(
        organisation_id=actor.organisation_id,
        service_id=service.id,
        from_stage=origin,
        to_stage=to,
        actor_id=actor.person_id,
        reason=reason.strip(),
    )
    session.add(change)
    await session.flush()
    return service, change
