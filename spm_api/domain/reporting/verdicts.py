"""Stakeholders' word on the deliverable: affirmed, or disputed with a reason. An open
dispute blocks CHARTERED → LIVE until a portfolio manager resolves it.

A verdict is an ``Affirmation`` row: AFFIRMED, or DISPUTED with the reason in its
comment; a dispute is open while it has no resolution. Only the service's registered
stakeholders give verdicts, each on the report they were given (the newest one unless
they name another).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.approvals.affirmations import AFFIRMABLE_STAGES, deviations_of
from spm_api.domain.portfolio.services import touch
from spm_api.domain.reads import load_owned
from spm_api.domain.reporting.reports import latest_report
from spm_api.models import Affirmation, Person, Service, Stakeholder, StakeholderReport
from spm_api.vocabulary.enums import Verdict
from spm_api.vocabulary.errors import ErrorCode, Problem, fail
from spm_api.vocabulary.stages import CLOSED_STAGES
from spm_api.vocabulary.validation import optional_text, required_text

MAX_TEXT = 10_000


async def _report_for(session: AsyncSession, actor: Actor, service: Service,
                      report_id: int | None) -> StakeholderReport | None:
    if report_id is None:
        return await latest_report(session, actor.organisation_id, service.id)
    report = await load_owned(session, StakeholderReport, actor.organisation_id, report_id,
                              "reportId")
    if report.service_id != service.id:
        raise fail(ErrorCode.NOT_FOUND, f"no such report of '{service.name}'", "reportId")
    return report


async def _give_verdict(session: AsyncSession, actor: Actor, service_id: int,
                        verdict: Verdict, comment: str, report_id: int | None
                        ) -> Affirmation:
    service = await load_owned(session, Service, actor.organisation_id, service_id,
                               "serviceId")
    registered = await session.scalar(select(Stakeholder.id).where(
        Stakeholder.service_id == service.id, Stakeholder.person_id == actor.person_id
    ).limit(1))
    if registered is None:
        raise fail(ErrorCode.FORBIDDEN,
                   f"only the registered stakeholders of '{service.name}' affirm or dispute "
                   f"its deliverable (a portfolio manager registers them: addStakeholder)")
    if service.stage not in AFFIRMABLE_STAGES:
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"the deliverable is affirmed or disputed once chartered and while "
                   f"live; '{service.name}' is {service.stage.value}", "serviceId")
    report = await _report_for(session, actor, service, report_id)
    affirmation = Affirmation(
        organisation_id=actor.organisation_id, service_id=service.id,
        person_id=actor.person_id, verdict=verdict, comment=comment,
        report_id=None if report is None else report.id,
        deviation_count=len(await deviations_of(session, service)))
    session.add(affirmation)
    if verdict is Verdict.DISPUTED:
        # A dispute races a move to LIVE: the service's version lets only one commit.
        # Affirmations do not touch it, so many stakeholders may affirm at once.
        touch(service)
    await session.flush()
    return affirmation


async def affirm_deliverable(session: AsyncSession, actor: Actor, service_id: int,
                             comment: str = "", report_id: int | None = None
                             ) -> Affirmation:
    """A registered stakeholder affirms that the deliverable meets the charter."""
    text = optional_text(comment, "comment", MAX_TEXT)
    return await _give_verdict(session, actor, service_id, Verdict.AFFIRMED, text,
                               report_id)


async def dispute_deliverable(session: AsyncSession, actor: Actor, service_id: int,
                              reason: str, report_id: int | None = None) -> Affirmation:
    """A registered stakeholder disputes the deliverable, saying why; it blocks going
    LIVE until resolved."""
    text = required_text(reason, "reason", MAX_TEXT)
    return await _give_verdict(session, actor, service_id, Verdict.DISPUTED, text,
                               report_id)


async def resolve_dispute(session: AsyncSession, actor: Actor, dispute_id: int,
                          resolution: str) -> Affirmation:
    """A portfolio manager settles a dispute, saying how; it no longer blocks LIVE."""
    actor.require(Permission.MANAGE_STAKEHOLDERS)
    dispute = await load_owned(session, Affirmation, actor.organisation_id, dispute_id,
                               "disputeId")
    if dispute.verdict is not Verdict.DISPUTED:
        raise fail(ErrorCode.VALIDATION,
                   "this verdict affirms the deliverable: there is no dispute to resolve",
                   "disputeId")
    if dispute.resolved_at is not None:
        raise fail(ErrorCode.CONFLICT,
                   f"the dispute was resolved already: {dispute.resolution}", "disputeId")
    text = required_text(resolution, "resolution", MAX_TEXT)
    service = await load_owned(session, Service, actor.organisation_id, dispute.service_id,
                               "disputeId")
    if service.stage in CLOSED_STAGES:
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"the service is {service.stage.value}: its disputes no longer change",
                   "disputeId")
    dispute.resolution = text
    dispute.resolved_by_id = actor.person_id
    dispute.resolved_at = utcnow()
    touch(service)
    await session.flush()
    return dispute


async def open_disputes(session: AsyncSession, service_id: int) -> list[Problem]:
    """Why the service cannot go LIVE yet: each dispute of its deliverable not resolved."""
    rows = (await session.execute(
        select(Affirmation.id, Affirmation.comment, Person.name)
        .join(Person, Person.id == Affirmation.person_id)
        .where(Affirmation.service_id == service_id,
               Affirmation.verdict == Verdict.DISPUTED,
               Affirmation.resolved_at.is_(None))
        .order_by(Affirmation.id))).all()
    return [Problem(ErrorCode.GUARD_FAILED,
                    f"{name} disputes the deliverable ({reason}): a portfolio manager "
                    f"resolves the dispute first (resolveDispute)", "disputes")
            for _id, reason, name in rows]
