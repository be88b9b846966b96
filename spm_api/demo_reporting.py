"""Demo data for reporting back to stakeholders: the people with a stake in the first
chartered and the first live service, a report issued on each, and their verdicts — an
affirmation of the live service, and a dispute of the chartered one that a portfolio
manager has settled (so it shows the whole flow without holding the project back)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor
from spm_api.domain.reporting.reports import issue_stakeholder_report
from spm_api.domain.reporting.stakeholders import add_stakeholder
from spm_api.domain.reporting.verdicts import (
    affirm_deliverable,
    dispute_deliverable,
    resolve_dispute,
)
from spm_api.models import Service
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import StakeholderRole
from spm_api.vocabulary.stages import Stage

DISPUTE_REASON = "the self-service portal is not in the delivered scope"
RESOLUTION = "the portal moves to a second release; the sponsor agreed the change"


async def seed_reporting(session: AsyncSession, plugins: PluginHost, manager: Actor,
                         sponsor: Actor, user: Actor, finance: Actor,
                         services: list[Service]) -> None:
    """Stakeholders, one report and verdicts on the first chartered and first live
    service; nothing without both."""
    chartered = next((s for s in services if s.stage is Stage.CHARTERED), None)
    live = next((s for s in services if s.stage is Stage.LIVE), None)
    if chartered is None or live is None:
        return
    for service in (chartered, live):
        for person, role in ((sponsor, StakeholderRole.SPONSOR),
                             (user, StakeholderRole.USER_REPRESENTATIVE),
                             (finance, StakeholderRole.FINANCE)):
            await add_stakeholder(session, manager, service.id, person.person_id, role)
    live_report = await issue_stakeholder_report(session, manager, plugins, live.id)
    await affirm_deliverable(session, sponsor, live.id, "delivers what the charter set out",
                             live_report.id)
    await affirm_deliverable(session, user, live.id, "", live_report.id)
    chartered_report = await issue_stakeholder_report(session, manager, plugins,
                                                      chartered.id)
    dispute = await dispute_deliverable(session, user, chartered.id, DISPUTE_REASON,
                                        chartered_report.id)
    await resolve_dispute(session, manager, dispute.id, RESOLUTION)
    await affirm_deliverable(session, sponsor, chartered.id, "", chartered_report.id)
