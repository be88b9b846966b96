"""Approval mutation payloads: the changed objects plus ``errors: [UserError!]!``."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from spm_api.graphql.approvals.types import AffirmationNode, ApprovalRoundView, VoteNode
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.errors import UserError
from spm_api.graphql.portfolio.types import ServiceNode, StageChangeNode, service_of


@strawberry.type
class CastVotePayload:
    vote: VoteNode | None = None
    service: ServiceNode | None = None
    approval: ApprovalRoundView | None = strawberry.field(
        default=None, description="The round after this vote, with every rule's verdict.")
    stage_change: StageChangeNode | None = strawberry.field(
        default=None, description="Set when this vote made the round reject the service.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AffirmServicePayload:
    affirmation: AffirmationNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)

    @strawberry.field
    async def service(self, info: Info[Context, None]) -> ServiceNode | None:
        return await service_of(info, None if self.affirmation is None
                                else self.affirmation.service_id)


@strawberry.type
class ApprovalRulesPayload:
    rules: list[str] | None = strawberry.field(
        default=None, description="The organisation's approval rules now.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ConfigurePluginPayload:
    plugin: str | None = None
    settings: JSON | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
