"""An audit event and a page of them (a Relay connection over a keyset)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from spm_api.graphql.core.context import Context
from spm_api.graphql.portfolio.types import PersonNode
from spm_api.vocabulary.audit import AuditAction, AuditEntity

strawberry.enum(AuditEntity, description="What kind of thing an audit event is about.")
strawberry.enum(AuditAction, description="What happened to it.")

#: The type an audited entity's id is a global id of: the node it is (a charging policy
#: is its service's, approval rules and plugin settings are the organisation's).
ENTITY_TYPES: dict[AuditEntity, str] = {
    AuditEntity.SERVICE: "Service",
    AuditEntity.REQUIREMENT: "Requirement",
    AuditEntity.STAKEHOLDER_INPUT: "StakeholderInput",
    AuditEntity.BUDGET_LINE: "BudgetLine",
    AuditEntity.COST_ENTRY: "CostEntry",
    AuditEntity.USAGE_RECORD: "UsageRecord",
    AuditEntity.CHARGING_POLICY: "Service",
    AuditEntity.APPROVAL_RULES: "Organisation",
    AuditEntity.PLUGIN_SETTINGS: "Organisation",
    AuditEntity.CONTRACTOR: "Contractor",
    AuditEntity.PERSON: "Person",
    AuditEntity.API_TOKEN: "ApiToken",
    AuditEntity.VOTE: "Vote",
    AuditEntity.ORGANISATION: "Organisation",
    AuditEntity.CUSTOMER: "Customer",
    AuditEntity.COST_CATEGORY: "CostCategory",
}


@strawberry.type(name="AuditEvent", description="One change, as it was recorded in the "
                 "change's own transaction: who, when, what, the changed fields before "
                 "and after (secrets masked), and the plugin it went through. Immutable.")
class AuditEventType:
    row: strawberry.Private[Any]

    @strawberry.field(description="Unique in the trail; a later event has a greater id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="When (UTC).")
    def at(self) -> datetime:
        value: datetime = self.row.at
        return value

    @strawberry.field(description="Who acted, as they are now; null for the command-line "
                                  "operator.")
    async def person(self, info: Info[Context, None]) -> PersonNode | None:
        if self.row.person_id is None:
            return None
        return await info.context.loaders.person.load(self.row.person_id)

    @strawberry.field(description="Who acted, by the name they had then.")
    def person_name(self) -> str:
        name: str = self.row.person_name
        return name

    @strawberry.field(description="What kind of thing changed.")
    def entity_kind(self) -> AuditEntity:
        kind: AuditEntity = self.row.entity_kind
        return kind

    @strawberry.field(description="The global id of what changed (a Service's id for its "
                                  "charging policy, the Organisation's for its approval "
                                  "rules and plugin settings); null for an import of many.")
    def entity_id(self) -> strawberry.ID | None:
        if self.row.entity_id is None:
            return None
        return strawberry.ID(str(relay.GlobalID(ENTITY_TYPES[self.row.entity_kind],
                                                str(self.row.entity_id))))

    @strawberry.field(description="What happened.")
    def action(self) -> AuditAction:
        action: AuditAction = self.row.action
        return action

    @strawberry.field(description="The changed fields as they were (null for a creation), "
                                  "named as the API names them; secrets as ****.")
    def before(self) -> JSON | None:
        return self.row.before  # type: ignore[no-any-return]

    @strawberry.field(description="The changed fields as they became (null for a "
                                  "deletion); secrets as ****.")
    def after(self) -> JSON | None:
        return self.row.after  # type: ignore[no-any-return]

    @strawberry.field(description="The plugin the change went through or was for (the "
                                  "plugin configured, a contractor's integration, a "
                                  "charging model); null if none.")
    def via(self) -> str | None:
        via: str | None = self.row.via
        return via


@strawberry.type(name="AuditEventEdge", description="An audit event and its cursor.")
class AuditEventEdge:
    cursor: str = strawberry.field(description="Pass as `after` for the events older than "
                                               "this one.")
    node: AuditEventType


@strawberry.type(name="AuditEventConnection", description="Audit events, newest first, a "
                 "page at a time. Pages are cut by cursor, not by position: events "
                 "recorded while you page appear before the first page and never shift "
                 "the next one.")
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: relay.PageInfo
