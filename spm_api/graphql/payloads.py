"""Mutation payloads: the changed objects plus ``errors: [UserError!]!``."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from spm_api.graphql.approval_types import AffirmationNode, ApprovalRoundView, VoteNode
from spm_api.graphql.context import Context
from spm_api.graphql.enums import UserErrorCode
from spm_api.graphql.types import (
    OrganisationNode,
    RequirementNode,
    ServiceNode,
    StageChangeNode,
    StakeholderInputNode,
    service_of,
)
from spm_api.vocabulary.errors import Problem


@strawberry.type(description="An expected problem with a mutation's input or the rules.")
class UserError:
    code: UserErrorCode
    field: str | None = strawberry.field(description="The input field at fault, if one is.")
    message: str

    @classmethod
    def from_problem(cls, problem: Problem) -> UserError:
        return cls(code=problem.code, field=problem.field, message=problem.message)


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


@strawberry.type
class OrganisationPayload:
    organisation: OrganisationNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
