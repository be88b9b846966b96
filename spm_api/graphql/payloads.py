"""Mutation payloads: the changed objects plus ``errors: [UserError!]!``."""

from __future__ import annotations

import strawberry

from spm_api.domain.errors import Problem
from spm_api.graphql.enums import UserErrorCode
from spm_api.graphql.types import (
    RequirementNode,
    ServiceNode,
    StageChangeNode,
    StakeholderInputNode,
)


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
    service: ServiceNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StakeholderInputPayload:
    stakeholder_input: StakeholderInputNode | None = None
    service: ServiceNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TransitionServicePayload:
    service: ServiceNode | None = None
    stage_change: StageChangeNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
