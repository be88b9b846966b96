"""Reading one stakeholder report by id; a service's reports are ``Service.stakeholderReports``."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import database_id
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.reporting.types import StakeholderReportNode


@strawberry.type
class ReportingQuery:
    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="One stakeholder report of your organisation; null for "
                                  "an unknown id or another organisation's report.")
    async def stakeholder_report(self, info: Info[Context, None], id: strawberry.ID
                                 ) -> StakeholderReportNode | None:
        pk = database_id(id, "StakeholderReport")
        if pk is None:
            return None
        return await info.context.loaders.stakeholder_report.load(pk)
