"""``stakeholderReportIssued``: a new stakeholder report of a service."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import database_id
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.subscriptions import bus_messages, unauthenticated
from spm_api.graphql.portfolio.types import ServiceNode
from spm_api.graphql.reporting.types import StakeholderReportNode
from spm_api.realtime.messages import StakeholderReportIssuedMessage


@strawberry.type(description="A stakeholder report was issued.")
class StakeholderReportIssuedEvent:
    report: StakeholderReportNode
    service: ServiceNode


@strawberry.type
class ReportingSubscription:
    @strawberry.subscription(permission_classes=AUTHENTICATED,
                             description="Stakeholder reports issued in your organisation; "
                                         "only one service's with serviceId.")
    async def stakeholder_report_issued(self, info: Info[Context, None],
                                        service_id: strawberry.ID | None = None
                                        ) -> AsyncGenerator[StakeholderReportIssuedEvent, None]:
        context = info.context
        assert context.actor is not None
        only = None if service_id is None else (database_id(service_id, "Service") or -1)
        async for message in bus_messages(context, StakeholderReportIssuedMessage):
            if only is not None and message.service_id != only:
                continue
            async with context.event_scope() as actor:
                if actor is None:
                    raise unauthenticated()
                report = await context.loaders.stakeholder_report.load(message.report_id)
                service = await context.loaders.service.load(message.service_id)
                if report is None or service is None:
                    continue  # not the subscriber's to see
                yield StakeholderReportIssuedEvent(report=report, service=service)
