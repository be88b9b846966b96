"""Input types and their translation into domain values."""

from __future__ import annotations

from datetime import date

import strawberry

from spm_api.domain import reads
from spm_api.graphql.core.enums import (
    Health,
    InvestmentCategory,
    Necessity,
    Position,
    Section,
    ServiceOrderField,
    SortDirection,
    Stage,
)
from spm_api.graphql.core.ids import node_pk
from spm_api.graphql.core.money import MoneyInput


@strawberry.input
class ServiceFilter:
    sections: list[Section] | None = None
    stages: list[Stage] | None = None
    investment_categories: list[InvestmentCategory] | None = None
    owner_ids: list[strawberry.ID] | None = None
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive text in name, summary or objectives."
    )
    health: list[Health] | None = strawberry.field(
        default=None, description="Live services whose health is one of these.")

    def to_domain(self) -> reads.ServiceFilter:
        return reads.ServiceFilter(
            sections=self.sections or (),
            stages=self.stages or (),
            investment_categories=self.investment_categories or (),
            owner_ids=[node_pk(gid, "Person", "ownerIds") for gid in self.owner_ids or ()],
            search=self.search,
            healths=self.health or (),
        )


@strawberry.input
class ServiceOrder:
    field: ServiceOrderField = ServiceOrderField.NAME
    direction: SortDirection = SortDirection.ASC

    def to_domain(self) -> reads.ServiceOrder:
        return reads.ServiceOrder(field=self.field, direction=self.direction)


@strawberry.input
class CreateServiceInput:
    name: str
    investment_category: InvestmentCategory
    summary: str = ""
    objectives: str = ""
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the person creating the service."
    )
    estimated_cost: MoneyInput | None = strawberry.field(
        default=None, description="Business case: what delivering it is expected to cost.")
    expected_benefit: MoneyInput | None = strawberry.field(
        default=None, description="Business case: what it is expected to bring.")


@strawberry.input
class UpdateServiceInput:
    service_id: strawberry.ID
    expected_version: int | None = None
    name: str | None = None
    summary: str | None = None
    objectives: str | None = None
    owner_id: strawberry.ID | None = None
    investment_category: InvestmentCategory | None = None
    estimated_cost: MoneyInput | None = None
    expected_benefit: MoneyInput | None = None


@strawberry.input
class AddRequirementInput:
    service_id: strawberry.ID
    text: str


@strawberry.input
class AssessRequirementInput:
    requirement_id: strawberry.ID
    necessity: Necessity
    reason: str


@strawberry.input
class AddStakeholderInputInput:
    service_id: strawberry.ID
    position: Position
    comment: str


@strawberry.input(description="A move along the stage machine. WITHDRAWN (from DEFINITION "
                              "or ANALYSIS), CANCELLED (from CHARTERED) and RETIRING (from "
                              "LIVE) need a reason; RETIRING needs plannedEndDate too.")
class TransitionServiceInput:
    service_id: strawberry.ID
    to: Stage
    reason: str = ""
    expected_version: int | None = strawberry.field(
        default=None, description="Refused with CONFLICT when the service has moved on."
    )
    planned_end_date: date | None = strawberry.field(
        default=None, description="Moving to RETIRING: the last day the service is "
                                  "delivered (today or later). Only for that move.")
