"""Engagement requests: written when a service is chartered (in the same transaction as
the stage change: an outbox), delivered afterwards by the outbox worker, answered by the
contractor, retried by a portfolio manager when they failed. Cancellations go the same
way: written with the command that cancels (the service's CANCELLED, or
``cancel_engagement`` while it retires), delivered after the commit."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.reads import load_owned
from spm_api.models import Capability, Engagement, EngagementAttempt, Service
from spm_api.vocabulary.enums import EngagementStatus, Sourcing
from spm_api.vocabulary.errors import ErrorCode, Problem, fail
from spm_api.vocabulary.stages import Stage
from spm_api.vocabulary.validation import optional_text


async def open_engagements(session: AsyncSession, service: Service) -> list[Engagement]:
    """One PENDING engagement per contractor-sourced capability of the service."""
    capabilities = await session.scalars(select(Capability).where(
        Capability.service_id == service.id,
        Capability.sourcing == Sourcing.CONTRACTOR).order_by(Capability.id))
    engagements = [
        Engagement(organisation_id=service.organisation_id, service_id=service.id,
                   capability_id=capability.id, contractor_id=capability.contractor_id,
                   idempotency_key=uuid.uuid4().hex)
        for capability in capabilities if capability.contractor_id is not None
    ]
    session.add_all(engagements)
    return engagements


async def unaccepted(session: AsyncSession, service_id: int) -> list[Problem]:
    """Why the service cannot go LIVE yet: each engagement not ACCEPTED."""
    rows = (await session.execute(
        select(Engagement.status, Capability.name)
        .join(Capability, Capability.id == Engagement.capability_id)
        .where(Engagement.service_id == service_id)
        .order_by(Engagement.id))).all()
    return [Problem(ErrorCode.GUARD_FAILED,
                    f"the contractor has not accepted the engagement for {name!r} (it is "
                    f"{status.value})", "to")
            for status, name in rows if status is not EngagementStatus.ACCEPTED]


#: Engagements that bind nobody any more: declined by the contractor, or cancelled.
ENDED_STATUSES = frozenset({EngagementStatus.DECLINED, EngagementStatus.CANCELLED})


async def start_cancellation(session: AsyncSession, engagement: Engagement, reason: str
                             ) -> None:
    """Queue the engagement's cancellation in the outbox, to be delivered after the
    commit like its request was. A request that never left (not attempted, not being
    delivered) is cancelled at once: the contractor never heard of it.

    A request being delivered right now keeps its claim: its outcome is recorded first
    (the cancellation waits for the claim to end), so the contractor never receives a
    cancellation before the request it cancels."""
    if engagement.status in ENDED_STATUSES or engagement.status is EngagementStatus.CANCELLING:
        return
    now = utcnow()
    engagement.cancellation_reason = reason
    engagement.updated_at = now
    attempted = await session.scalar(select(func.count()).select_from(EngagementAttempt).where(
        EngagementAttempt.engagement_id == engagement.id))
    if (engagement.status is EngagementStatus.PENDING and engagement.attempts == 0
            and engagement.claimed_until is None and not attempted):
        engagement.status = EngagementStatus.CANCELLED
        engagement.last_error = None
        return
    engagement.status = EngagementStatus.CANCELLING
    engagement.attempts = 0
    engagement.next_attempt_at = now
    engagement.last_error = None


async def cancel_engagements(session: AsyncSession, service: Service, reason: str) -> None:
    """Cancel every engagement of the service still binding its contractor."""
    rows = await session.scalars(
        select(Engagement).where(Engagement.service_id == service.id)
        .order_by(Engagement.id).with_for_update())
    for engagement in rows:
        await start_cancellation(session, engagement, reason)
    await session.flush()


async def cancel_engagement(session: AsyncSession, actor: Actor, engagement_id: int,
                            reason: str) -> Engagement:
    """End one engagement of a RETIRING service: its contractor is told through the
    outbox. (A CHARTERED service's engagements are cancelled with the service.)"""
    actor.require(Permission.MANAGE_SOURCING)
    engagement = await load_owned(session, Engagement, actor.organisation_id, engagement_id,
                                  "engagementId", for_update=True)
    service = await load_owned(session, Service, actor.organisation_id,
                               engagement.service_id, "engagementId")
    if service.stage is not Stage.RETIRING:
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"engagements are cancelled one by one while their service is RETIRING; "
                   f"{service.name!r} is {service.stage.value}"
                   + (" (cancel the service itself: to CANCELLED)"
                      if service.stage is Stage.CHARTERED else ""), "engagementId")
    if engagement.status in ENDED_STATUSES or engagement.status is EngagementStatus.CANCELLING:
        raise fail(ErrorCode.CONFLICT,
                   f"the engagement is {engagement.status.value} already", "engagementId")
    text = optional_text(reason, "reason", 2000)
    if not text:
        raise fail(ErrorCode.REASON_REQUIRED, "say why the engagement ends", "reason")
    await start_cancellation(session, engagement, text)
    await session.flush()
    return engagement


async def still_open(session: AsyncSession, service_id: int) -> list[Problem]:
    """Why the service cannot be RETIRED yet: each engagement still binding a contractor,
    or whose cancellation has not reached it."""
    rows = (await session.execute(
        select(Engagement.status, Capability.name)
        .join(Capability, Capability.id == Engagement.capability_id)
        .where(Engagement.service_id == service_id)
        .order_by(Engagement.id))).all()
    problems = []
    for status, name in rows:
        if status in ENDED_STATUSES:
            continue
        if status is EngagementStatus.CANCELLING:
            why = (f"the cancellation of the engagement for {name!r} has not reached the "
                   f"contractor yet (CANCELLING)")
        elif status is EngagementStatus.CANCEL_FAILED:
            why = (f"the cancellation of the engagement for {name!r} failed after its last "
                   f"attempt (CANCEL_FAILED): retry it (retryEngagement)")
        else:
            why = (f"the engagement for {name!r} is still {status.value}: cancel it first "
                   f"(cancelEngagement)")
        problems.append(Problem(ErrorCode.GUARD_FAILED, why, "engagements"))
    return problems



async def retry_engagement(session: AsyncSession, actor: Actor, engagement_id: int
                           ) -> Engagement:
    """Deliver a FAILED engagement (or a CANCEL_FAILED cancellation) again, from a fresh
    count of attempts."""
    actor.require(Permission.MANAGE_SOURCING)
    engagement = await load_owned(session, Engagement, actor.organisation_id, engagement_id,
                                  "engagementId", for_update=True)
    retried = {EngagementStatus.FAILED: EngagementStatus.PENDING,
               EngagementStatus.CANCEL_FAILED: EngagementStatus.CANCELLING}
    if engagement.status not in retried:
        raise fail(ErrorCode.CONFLICT,
                   f"only a FAILED engagement or a CANCEL_FAILED cancellation is retried; "
                   f"this one is {engagement.status.value}", "engagementId")
    engagement.status = retried[engagement.status]
    engagement.attempts = 0
    engagement.next_attempt_at = utcnow()
    engagement.claimed_until = None
    engagement.updated_at = utcnow()
    await session.flush()
    return engagement


async def record_decision(session: AsyncSession, actor: Actor, engagement_id: int,
                          accepted: bool, reference: str | None = None) -> Engagement:
    """Record the contractor's answer to an engagement it received (SENT)."""
    actor.require(Permission.MANAGE_SOURCING)
    engagement = await load_owned(session, Engagement, actor.organisation_id, engagement_id,
                                  "engagementId", for_update=True)
    if engagement.status is not EngagementStatus.SENT:
        raise fail(ErrorCode.CONFLICT,
                   f"the contractor answers an engagement it received (SENT); this one is "
                   f"{engagement.status.value}", "engagementId")
    engagement.status = EngagementStatus.ACCEPTED if accepted else EngagementStatus.DECLINED
    if reference:
        engagement.contractor_reference = optional_text(reference, "reference", 200)
    engagement.updated_at = utcnow()
    await session.flush()
    return engagement
