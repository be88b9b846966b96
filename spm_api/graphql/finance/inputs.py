"""Inputs of the finance mutations."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.scalars import JSON

from spm_api.graphql.core.enums import CustomerKind
from spm_api.graphql.core.money import MoneyInput


@strawberry.input
class CreateCustomerInput:
    name: str
    kind: CustomerKind


@strawberry.input
class AddCostCategoryInput:
    code: str = strawberry.field(description="Lower-case letters, digits and _.")
    title: str


@strawberry.input
class SetBudgetLineInput:
    service_id: strawberry.ID
    period: str = strawberry.field(description="The month, YYYY-MM.")
    category: str = strawberry.field(description="A cost category code, like labour.")
    amount: MoneyInput


@strawberry.input
class RemoveBudgetLineInput:
    budget_line_id: strawberry.ID


@strawberry.input
class RecordCostInput:
    service_id: strawberry.ID
    booked_on: date
    category: str
    amount: MoneyInput = strawberry.field(description="Negative for a credit note.")
    description: str = ""


@strawberry.input
class RecordUsageInput:
    customer_id: strawberry.ID
    service_id: strawberry.ID
    period: str
    quantity: str = strawberry.field(description="A decimal string, like \"12.5\".")
    unit: str


@strawberry.input
class SetChargingPolicyInput:
    service_id: strawberry.ID
    model: str = strawberry.field(description="A charging model, as chargingModels lists.")
    # A default of {} cannot be introspected (graphql-core has no literal for an object
    # scalar), which broke GraphiQL's schema; null stands for "no parameters".
    parameters: JSON | None = strawberry.field(
        default=None, description="Checked by the model; omitted or null means none.")


@strawberry.input
class PeriodInput:
    period: str = strawberry.field(description="The month, YYYY-MM.")


@strawberry.input
class AddChargeAdjustmentInput:
    customer_id: strawberry.ID
    service_id: strawberry.ID
    corrects_period: str = strawberry.field(description="The closed month being corrected.")
    period: str = strawberry.field(description="The later, open month that bills it.")
    amount: MoneyInput = strawberry.field(description="Negative for a credit.")
    reason: str
