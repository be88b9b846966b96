"""Input types and their translation into domain values."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from spm_api.domain import reads
from spm_api.graphql.enums import (
    InvestmentCategory,
    Necessity,
    Position,
    Section,
    ServiceOrderField,
    SortDirection,
    Stage,
)
from spm_api.graphql.money import MoneyInput
from spm_api.vocabulary.enums import Decision
from spm_api.vocabulary.errors import ErrorCode, fail


def parse_global_id(raw: str) -> relay.GlobalID | None:
    """A Relay global id, or None when ``raw`` is not one (ids are opaque to clients)."""
    try:
        return relay.GlobalID.from_id(raw)
    except ValueError:  # GlobalIDValueError and base64/unicode errors alike
        return None


def database_id(raw: str, expected_type: str) -> int | None:
    """The row id inside a global id of ``expected_type``, or None for any other id."""
    global_id = parse_global_id(raw)
    if global_id is None or global_id.type_name != expected_type:
        return None
    return row_id(global_id.node_id)


#: The largest row id (PostgreSQL's INTEGER); a larger number names no row.
MAX_ROW_ID = 2**31 - 1


def row_id(text: str) -> int | None:
    """A row id written in ASCII digits within range, or None."""
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ROW_ID:
        return None
    return int(text)


def node_pk(raw: str, expected_type: str, field: str) -> int:
    """The row id inside a global id, refusing ids of another type as NOT_FOUND."""
    found = database_id(raw, expected_type)
    if found is None:
        raise fail(ErrorCode.NOT_FOUND, f"{field} is not the id of a {expected_type}", field)
    return found


@strawberry.input
class ServiceFilter:
    sections: list[Section] | None = None
    stages: list[Stage] | None = None
    investment_categories: list[InvestmentCategory] | None = None
    owner_ids: list[strawberry.ID] | None = None
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


@strawberry.input
class TransitionServiceInput:
    service_id: strawberry.ID
    to: Stage
    reason: str = ""
    expected_version: int | None = strawberry.field(
        default=None, description="Refused with CONFLICT when the service has moved on."
    )


@strawberry.input
class CastVoteInput:
    service_id: strawberry.ID
    decision: Decision
    comment: str = ""


@strawberry.input
class AffirmServiceInput:
    service_id: strawberry.ID
    comment: str = ""


@strawberry.input
class SetApprovalRulesInput:
    rules: list[str] = strawberry.field(
        description="Names of installed approval rules; all must approve, any one rejects.")


@strawberry.input
class ConfigurePluginInput:
    plugin: str = strawberry.field(description="The plugin's name, as `plugins` lists it.")
    settings: JSON = strawberry.field(description="A JSON object the plugin validates.")


@strawberry.input
class UpdateOrganisationSettingsInput:
    currency: str | None = strawberry.field(default=None, description="ISO 4217 code.")
    fiscal_year_start_month: int | None = strawberry.field(
        default=None, description="1 for January ... 12 for December.")
