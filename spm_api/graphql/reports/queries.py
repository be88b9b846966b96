"""The reports root field; each report is a field of ``Reports``."""

from __future__ import annotations

import strawberry

from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.reports.types import Reports


@strawberry.type
class ReportsQuery:
    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Budget vs actual, investment, charges, cost recovery and "
                                  "the pipeline ranking.")
    def reports(self) -> Reports:
        return Reports()
