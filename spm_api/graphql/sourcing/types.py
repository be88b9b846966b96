"""Sourcing types: contractors, capabilities, quotes and engagement requests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import AttemptKind, EngagementStatus, Sourcing
from spm_api.graphql.core.money import Money, money_of
from spm_api.graphql.core.nodes import LoadedNode, present
from spm_api.graphql.portfolio.types import PersonNode, ServiceNode


async def _contractor(info: Info[Context, None], contractor_id: int | None
                      ) -> ContractorNode | None:
    if contractor_id is None:
        return None
    return await info.context.loaders.contractor.load(contractor_id)


@strawberry.type(name="Contractor", description="An external supplier in the registry.")
class ContractorNode(LoadedNode):
    loader_name = "contractor"

    id: relay.NodeID[int]
    name: str
    contact: str
    integration: str = strawberry.field(description="The contractor integration used.")
    created_at: datetime
    settings: strawberry.Private[dict[str, Any]]

    @strawberry.field(description="The integration's settings for this contractor "
                                  "(portfolio managers and admins only; null for others), "
                                  "credentials masked but for their last characters.")
    def settings_json(self, info: Info[Context, None], root: strawberry.Parent[Any]
                      ) -> JSON | None:
        from spm_api.domain.actor import Permission
        from spm_api.domain.sourcing.contractors import shown_settings

        actor = info.context.actor
        if actor is None or not actor.can(Permission.MANAGE_SOURCING):
            return None
        shown: Any = shown_settings(root.settings)  # a JSON object
        return shown  # type: ignore[no-any-return]


@strawberry.type(description="A contractor's price for a capability.")
class Quote:
    reference: str
    valid_until: date | None
    received_at: datetime

    @strawberry.field
    async def amount(self, info: Info[Context, None], root: strawberry.Parent[Any]) -> Money:
        found = await money_of(info, root.amount)
        assert found is not None
        return found


@strawberry.type(name="Capability",
                 description="What delivering the service needs, staffed internally or "
                             "sourced from a contractor.")
class CapabilityNode(LoadedNode):
    loader_name = "capability"

    id: relay.NodeID[int]
    name: str
    description: str
    sourcing: Sourcing

    @strawberry.field
    async def estimated_cost(self, info: Info[Context, None], root: strawberry.Parent[Any]
                             ) -> Money | None:
        return await money_of(info, root.estimated_cost)

    @strawberry.field(description="The internal owner (INTERNAL).")
    async def owner(self, info: Info[Context, None], root: strawberry.Parent[Any]
                    ) -> PersonNode | None:
        if root.owner_id is None:
            return None
        return await info.context.loaders.person.load(root.owner_id)

    @strawberry.field(description="The contractor (CONTRACTOR).")
    async def contractor(self, info: Info[Context, None], root: strawberry.Parent[Any]
                         ) -> ContractorNode | None:
        return await _contractor(info, root.contractor_id)

    @strawberry.field(description="Quotes received, oldest first.")
    async def quotes(self, info: Info[Context, None], root: strawberry.Parent[Any]
                     ) -> list[Quote]:
        return await info.context.loaders.quotes_of_capability.load(root.id)


@strawberry.type(description="One delivery attempt of an engagement request or of its "
                             "cancellation.")
class EngagementAttempt:
    kind: AttemptKind = strawberry.field(
        description="What the attempt delivered: the request or its cancellation.")
    number: int
    at: datetime
    outcome: str = strawberry.field(
        description="RECEIVED, ACCEPTED, DECLINED or ERROR; for a cancellation CANCELLED, "
                    "NOT_SUPPORTED (the integration cannot cancel: nothing was sent) or "
                    "ERROR.")
    detail: str


@strawberry.type(name="Engagement",
                 description="An engagement request to a contractor, written when the "
                             "service was chartered and delivered after.")
class EngagementNode(LoadedNode):
    loader_name = "engagement"

    id: relay.NodeID[int]
    status: EngagementStatus
    attempts: int = strawberry.field(description="Attempts since it was (re)queued.")
    next_attempt_at: datetime
    contractor_reference: str | None
    last_error: str | None
    cancellation_reason: str | None = strawberry.field(
        description="Why it was cancelled (sent to the contractor); null until then.")
    idempotency_key: str = strawberry.field(description="The same on every attempt.")
    created_at: datetime
    updated_at: datetime
    capability_id: strawberry.Private[int]
    contractor_id: strawberry.Private[int]
    service_id: strawberry.Private[int]

    @strawberry.field
    async def capability(self, info: Info[Context, None]) -> CapabilityNode | None:
        return await info.context.loaders.capability.load(self.capability_id)

    @strawberry.field
    async def contractor(self, info: Info[Context, None]) -> ContractorNode | None:
        return await _contractor(info, self.contractor_id)

    @strawberry.field
    async def service(self, info: Info[Context, None]) -> ServiceNode:
        return present(await info.context.loaders.service.load(self.service_id))

    @strawberry.field(description="Every delivery attempt, oldest first.")
    async def attempt_history(self, info: Info[Context, None]) -> list[EngagementAttempt]:
        return await info.context.loaders.attempts_of_engagement.load(self.id)


@strawberry.type(description="A contractor integration installed on this server.")
class ContractorIntegrationInfo:
    name: str
    title: str
    description: str
    plugin: str
    quotes: bool = strawberry.field(description="Whether it can ask for quotes.")
