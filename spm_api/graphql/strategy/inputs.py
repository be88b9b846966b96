"""Inputs for business cases, risks, objectives, alignment and strategy settings."""

from __future__ import annotations

import strawberry

from spm_api.graphql.core.enums import RiskStatus
from spm_api.graphql.core.money import MoneyInput


@strawberry.input(description="One fiscal year of a business case, in the organisation's "
                              "currency; amounts are zero or more.")
class CaseYearInput:
    fiscal_year: int = strawberry.field(description="Named by the year it ends in.")
    investment: MoneyInput
    running_cost: MoneyInput
    benefit: MoneyInput


@strawberry.input(description="Replace a proposal's business case (DEFINITION or ANALYSIS).")
class SetBusinessCaseInput:
    service_id: strawberry.ID
    years: list[CaseYearInput] = strawberry.field(
        description="At least one, at most 30, fiscal years following one another.")
    expected_version: int | None = None


@strawberry.input(description="What a live service brought in one fiscal year.")
class RecordRealisedBenefitInput:
    service_id: strawberry.ID
    fiscal_year: int
    amount: MoneyInput
    note: str = ""


@strawberry.input(description="Raise a risk on a service.")
class AddRiskInput:
    service_id: strawberry.ID
    description: str
    likelihood: int = strawberry.field(description="1 (rare) to 5 (almost certain).")
    impact: int = strawberry.field(description="1 (negligible) to 5 (severe).")
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="A person of your organisation who answers for it.")
    mitigation: str = ""


@strawberry.input(description="Change a risk; fields left out stay as they are.")
class UpdateRiskInput:
    risk_id: strawberry.ID
    description: str | None = None
    likelihood: int | None = None
    impact: int | None = None
    owner_id: strawberry.ID | None = None
    mitigation: str | None = None
    status: RiskStatus | None = strawberry.field(
        default=None, description="OPEN, MITIGATED or ACCEPTED; close with closeRisk.")


@strawberry.input(description="Close a risk for good, saying why.")
class CloseRiskInput:
    risk_id: strawberry.ID
    reason: str


@strawberry.input(description="A new strategic objective.")
class CreateStrategicObjectiveInput:
    name: str
    description: str = ""


@strawberry.input(description="Change an objective; fields left out stay as they are.")
class UpdateStrategicObjectiveInput:
    objective_id: strawberry.ID
    name: str | None = None
    description: str | None = None


@strawberry.input(description="Align a service to an objective; aligning again changes the "
                              "weight.")
class AlignServiceInput:
    service_id: strawberry.ID
    objective_id: strawberry.ID
    weight: str = strawberry.field(description="Above 0, at most 1, like \"0.5\".")


@strawberry.input(description="Take a service's alignment to an objective away.")
class UnalignServiceInput:
    service_id: strawberry.ID
    objective_id: strawberry.ID


@strawberry.input(description="The rate business cases are discounted at.")
class SetDiscountRateInput:
    rate: str = strawberry.field(description="A fraction 0-1, at most four places: "
                                             "\"0.08\" is 8%.")


@strawberry.input(description="The share of investment aimed at per category; fractions "
                              "adding up to exactly 1.")
class SetTargetMixInput:
    run: str
    grow: str
    transform: str
