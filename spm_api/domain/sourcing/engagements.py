"""Engagement requests: written when a service is chartered (in the same transaction as
the stage change: an outbox), delivered afterwards by the outbox worker, answered by the
contractor, retried by a portfolio manager when they failed."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.reads import load_owned
from spm_api.models import Capability, Engagement, Service
from spm_api.vocabulary.enums import EngagementStatus, Sourcing
from spm_api.vocabulary.errors import ErrorCode, Problem, fail
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




async def retry_engagement(session: AsyncSession, actor: Actor, engagement_id: int
                           ) -> Engagement:
    """Deliver a FAILED engagement again, from a fresh count of attempts."""
    actor.require(Permission.MANAGE_SOURCING)
    engagement = await load_owned(session, Engagement, actor.organisation_id, engagement_id,
                                  "engagementId", for_update=True)
    if engagement.status is not EngagementStatus.FAILED:
        raise fail(ErrorCode.CONFLICT,
                   f"only a FAILED engagement is retried; this one is "
                   f"{engagement.status.value}", "engagementId")
    engagement.status = EngagementStatus.PENDING
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
