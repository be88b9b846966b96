"""Input types and their translation into domain values."""

from __future__ import annotations

import strawberry
from strawberry import relay

from spm_api.domain import reads
from spm_api.domain.errors import ErrorCode, fail
from spm_api.graphql.enums import (
    InvestmentCategory,
    Necessity,
    Position,
    Section,
    ServiceOrderField,
    SortDirection,
    Stage,
)


def node_pk(global_id: relay.GlobalID, expected_type: str, field: str) -> int:
    """The database id inside a Relay global id, refusing ids of another type."""
    if global_id.type_name != expected_type or not global_id.node_id.isdigit():
        raise fail(ErrorCode.NOT_FOUND, f"{field} is not the id of a {expected_type}", field)
    return int(global_id.node_id)


@strawberry.input
class ServiceFilter:
    sections: list[Section] | None = None
    stages: list[Stage] | None = None
    investment_categories: list[InvestmentCategory] | None = None
    owner_ids: list[relay.GlobalID] | None = None
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive text in name, summary or objectives."
    )

    def to_domain(self) -> reads.ServiceFilter:
        return reads.ServiceFilter(
            sections=self.sections or (),
            stages=self.stages or (),
            investment_categories=self.investment_categories or (),
            owner_ids=[node_pk(gid, "Person", "ownerIds") for gid in self.owner_ids or ()],
            search=self.search,
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
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Defaults to the person creating the service."
    )


@strawberry.input
class UpdateServiceInput:
    service_id: relay.GlobalID
    expected_version: int | None = None
    name: str | None = None
    summary: str | None = None
    objectives: str | None = None
    owner_id: relay.GlobalID | None = None
    investment_category: InvestmentCategory | None = None


@strawberry.input
class AddRequirementInput:
    service_id: relay.GlobalID
    text: str


@strawberry.input
class AssessRequirementInput:
    requirement_id: relay.GlobalID
    necessity: Necessity
    reason: str


@strawberry.input
class AddStakeholderInputInput:
    service_id: relay.GlobalID
    position: Position
    comment: str


@strawberry.input
class TransitionServiceInput:
    service_id: relay.GlobalID
    to: Stage
    reason: str = ""
    expected_version: int | None = strawberry.field(
        default=None, description="Refused with CONFLICT when the service has moved on."
    )
