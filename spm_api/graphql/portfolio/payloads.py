"""Mutation payloads: the changed objects plus ``errors: [UserError!]!``."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from spm_api.graphql.core.context import Context
from spm_api.graphql.core.errors import UserError
from spm_api.graphql.portfolio.types import (
    RequirementNode,
    ServiceNode,
    StageChangeNode,
    StakeholderInputNode,
    service_of,
)


@strawberry.type
class ServicePayload:
    service: ServiceNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RequirementPayload:
    requirement: RequirementNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)

    @strawberry.field(description="The service, with its new version.")
    async def service(self, info: Info[Context, None]) -> ServiceNode | None:
        return await service_of(info, None if self.requirement is None
                                else self.requirement.service_id)


@strawberry.type
class StakeholderInputPayload:
    stakeholder_input: StakeholderInputNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)

    @strawberry.field(description="The service, with its new version.")
    async def service(self, info: Info[Context, None]) -> ServiceNode | None:
        return await service_of(info, None if self.stakeholder_input is None
                                else self.stakeholder_input.service_id)


@strawberry.type
class TransitionServicePayload:
    service: ServiceNode | None = None
    stage_change: StageChangeNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
