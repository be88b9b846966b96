"""Payloads of the finance mutations."""

from __future__ import annotations

from datetime import datetime

import strawberry

from spm_api.graphql.core.errors import UserError
from spm_api.graphql.finance.types import (
    BudgetLineNode,
    ChargeLine,
    ChargingPolicy,
    ChargingRunResult,
    CostCategoryInfo,
    CostEntryNode,
    CustomerNode,
    StatementNode,
    UsageRecord,
)


@strawberry.type
class CustomerPayload:
    customer: CustomerNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CostCategoryPayload:
    category: CostCategoryInfo | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class BudgetLinePayload:
    budget_line: BudgetLineNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RemoveBudgetLinePayload:
    removed_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CostEntryPayload:
    cost_entry: CostEntryNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UsageRecordPayload:
    usage_record: UsageRecord | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ChargingPolicyPayload:
    charging_policy: ChargingPolicy | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class IssueStatementsPayload:
    run: ChargingRunResult | None = None
    statements: list[StatementNode] | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ClosePeriodPayload:
    period: str | None = None
    closed_at: datetime | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ChargeAdjustmentPayload:
    adjustment: ChargeLine | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
