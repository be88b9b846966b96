"""Approval root query fields: the rules installed and applied."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from spm_api.graphql.approvals.types import ApprovalRuleInfo, approval_rules
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.permissions import AUTHENTICATED


@strawberry.type
class ApprovalsQuery:
    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="The approval rules installed, and which your "
                                  "organisation applies (admins change them with "
                                  "setApprovalRules).")
    async def approval_rules(self, info: Info[Context, None]) -> list[ApprovalRuleInfo]:
        return await approval_rules(info)
