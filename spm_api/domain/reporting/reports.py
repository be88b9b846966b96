"""Issuing stakeholder reports, and reading them back.

A report is a snapshot: ``content.gather`` reads everything it says (the health model
asked before anything is written), then one row is written with the next number in
the service's series. ``stakeholderReportIssued`` is published after the commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain import events
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.portfolio.services import touch
from spm_api.domain.reads import load_owned
from spm_api.domain.reporting.content import gather
from spm_api.models import Person, Service, StakeholderReport
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.stages import Stage

#: Stages a service is reported on: chartered (being built), live, and retiring
#: (still delivered until its end date).
REPORTED_STAGES = frozenset({Stage.CHARTERED, Stage.LIVE, Stage.RETIRING})


async def issue_stakeholder_report(session: AsyncSession, actor: Actor, plugins: PluginHost,
                                   service_id: int) -> StakeholderReport:
    """Freeze what the stakeholders are told about the service now, as the next
    report in its series."""
    actor.require(Permission.MANAGE_STAKEHOLDERS)
    service = await load_owned(session, Service, actor.organisation_id, service_id,
                               "serviceId")
    if service.stage not in REPORTED_STAGES:
        allowed = ", ".join(sorted(REPORTED_STAGES))
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"reports are issued for {allowed} services; '{service.name}' is "
                   f"{service.stage.value}", "serviceId")
    content = await gather(session, plugins, service)
    last = await session.scalar(select(func.max(StakeholderReport.sequence)).where(
        StakeholderReport.service_id == service.id))
    sequence = (last or 0) + 1
    issuer = await session.get(Person, actor.person_id)
    issued_at = utcnow()
    content = {"sequence": sequence, "issued_at": issued_at.isoformat(),
               "issued_by": None if issuer is None else issuer.name, **content}
    report = StakeholderReport(organisation_id=actor.organisation_id, service_id=service.id,
                               sequence=sequence, stage=service.stage,
                               issued_by_id=actor.person_id, issued_at=issued_at,
                               content=content)
    session.add(report)
    touch(service)  # two issuers at once: one wins, the other gets CONFLICT
    await session.flush()
    events.record(session, events.StakeholderReportIssued(actor.organisation_id, report.id,
                                                          service.id))
    return report


async def latest_report(session: AsyncSession, organisation_id: int, service_id: int
                        ) -> StakeholderReport | None:
    """The service's newest report, None before the first."""
    found: StakeholderReport | None = await session.scalar(
        select(StakeholderReport).where(StakeholderReport.organisation_id == organisation_id,
                                        StakeholderReport.service_id == service_id)
        .order_by(StakeholderReport.sequence.desc()).limit(1))
    return found


async def report_of(session: AsyncSession, organisation_id: int, service_id: int,
                    sequence: int | None = None) -> StakeholderReport:
    """One report of the service: number ``sequence``, or the newest. ``NOT_FOUND``
    for a service of another organisation, as for one that does not exist."""
    service = await load_owned(session, Service, organisation_id, service_id, "serviceId")
    if sequence is None:
        report = await latest_report(session, organisation_id, service.id)
        if report is None:
            raise fail(ErrorCode.NOT_FOUND,
                       f"no stakeholder report of '{service.name}' has been issued yet "
                       f"(issueStakeholderReport)", "serviceId")
        return report
    found: StakeholderReport | None = await session.scalar(select(StakeholderReport).where(
        StakeholderReport.organisation_id == organisation_id,
        StakeholderReport.service_id == service.id,
        StakeholderReport.sequence == sequence))
    if found is None:
        raise fail(ErrorCode.NOT_FOUND,
                   f"'{service.name}' has no stakeholder report number {sequence}",
                   "sequence")
    return found


def exported(report_id: int, content: dict[str, Any]) -> dict[str, Any]:
    """A report as it is exported: its frozen content with its id."""
    return {"id": report_id, **content}
