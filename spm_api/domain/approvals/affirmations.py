"""Stakeholders affirming the delivered outcome against the chartered baseline."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor, Permission
from spm_api.domain.approvals import baseline
from spm_api.domain.reads import load_owned
from spm_api.models import Affirmation, Baseline, Service
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.stages import Stage
from spm_api.vocabulary.validation import optional_text

AFFIRMABLE_STAGES = frozenset({Stage.CHARTERED, Stage.LIVE})


async def deviations_of(session: AsyncSession, service: Service) -> list[baseline.Deviation]:
    """What changed since chartering; nothing when the service has no baseline yet."""
    frozen = await session.scalar(select(Baseline).where(Baseline.service_id == service.id))
    if frozen is None:
        return []
    return baseline.deviations(frozen.content, service, await baseline.plan_of(session, service))


async def affirm_service(session: AsyncSession, actor: Actor, service_id: int, comment: str
                         ) -> Affirmation:
    """Record that a stakeholder affirms the outcome, knowing the deviations reported."""
    actor.require(Permission.AFFIRM)
    service = await load_owned(session, Service, actor.organisation_id, service_id, "serviceId")
    if service.stage not in AFFIRMABLE_STAGES:
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"the outcome is affirmed once chartered; the service is "
                   f"{service.stage.value}", "serviceId")
    affirmation = Affirmation(
        organisation_id=actor.organisation_id,
        service_id=service.id,
        person_id=actor.person_id,
        comment=optional_text(comment, "comment", 10_000),
        deviation_count=len(await deviations_of(session, service)),
    )
    session.add(affirmation)
    await session.flush()
    return affirmation
