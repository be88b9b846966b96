"""Casting a vote. A vote that makes the round REJECTED moves the service to REJECTED
in the same transaction; APPROVED waits for a portfolio manager to charter."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain import audit, events
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.approvals import rounds as approval
from spm_api.domain.portfolio.transitions import Move, move_service
from spm_api.domain.reads import load_owned
from spm_api.models import ApprovalRound, Service, StageChange, Vote
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.audit import AuditAction, AuditEntity
from spm_api.vocabulary.enums import ApprovalStatus, Decision
from spm_api.vocabulary.stages import Stage
from spm_api.vocabulary.validation import optional_text


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    vote: Vote
    service: Service
    approval_round: ApprovalRound
    #: Every vote of the round and the number of decision makers, as evaluated.
    votes: list[Vote]
    decision_maker_count: int
    result: approval.RoundResult
    stage_change: StageChange | None


async def cast_vote(
    session: AsyncSession,
    actor: Actor,
    plugins: PluginHost,
    service_id: int,
    decision: Decision,
    comment: str = "",
) -> VoteOutcome:
    """Record the actor's vote in the service's open round and re-evaluate the rules."""
    actor.require(Permission.VOTE)
    service = await load_owned(session, Service, actor.organisation_id, service_id, "serviceId")
    approval_round = await approval.lock_open_round(session, service)
    vote = Vote(
        organisation_id=actor.organisation_id,
        round_id=approval_round.id,
        voter_id=actor.person_id,
        decision=decision,
        comment=optional_text(comment, "comment", 10_000),
    )
    session.add(vote)
    await session.flush()
    audit.record(session, actor, AuditEntity.VOTE, vote.id, AuditAction.CAST,
                 after={"serviceId": service.id, "roundId": approval_round.id,
                        **audit.fields_of(vote, ("decision", "comment"))})
    events.record(session, events.VoteCast(actor.organisation_id, vote.id, approval_round.id,
                                           service.id))
    evaluation = await approval.evaluate_round(session, plugins, service, approval_round)
    result = evaluation.result
    change = None
    if result.status is ApprovalStatus.REJECTED:
        move = Move(session, plugins, service, Stage.REJECTED,
                    f"rejected by the approval round: {result.explanation()}",
                    approval_round=approval_round, round_result=result)
        _, change = await move_service(move, actor)
    return VoteOutcome(vote, service, approval_round, evaluation.votes,
                       len(evaluation.setup.decision_makers), result, change)
