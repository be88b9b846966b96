"""Root mutation fields: decode the input, call one domain command, shape the payload."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from spm_api.domain.portfolio import services, transitions
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import node_pk
from spm_api.graphql.core.money import optional_money
from spm_api.graphql.core.nodes import as_node
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.unit_of_work import run_mutation
from spm_api.graphql.portfolio.inputs import (
    AddRequirementInput,
    AddStakeholderInputInput,
    AssessRequirementInput,
    CreateServiceInput,
    TransitionServiceInput,
    UpdateServiceInput,
)
from spm_api.graphql.portfolio.payloads import (
    RequirementPayload,
    ServicePayload,
    StakeholderInputPayload,
    TransitionServicePayload,
)
from spm_api.graphql.portfolio.types import (
    RequirementNode,
    ServiceNode,
    StageChangeNode,
    StakeholderInputNode,
)


@strawberry.type
class PortfolioMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Propose a service; it starts in DEFINITION.")
    async def create_service(
        self, info: Info[Context, None], input: CreateServiceInput
    ) -> ServicePayload:
        service, errors = await run_mutation(
            info,
            lambda session, actor: services.create_service(
                session, actor,
                name=input.name,
                investment_category=input.investment_category,
                summary=input.summary,
                objectives=input.objectives,
                owner_id=node_pk(input.owner_id, "Person", "ownerId") if input.owner_id else None,
                estimated_cost=optional_money(input.estimated_cost, "estimatedCost"),
                expected_benefit=optional_money(input.expected_benefit, "expectedBenefit"),
            ),
        )
        return ServicePayload(service=as_node(ServiceNode, service), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def update_service(
        self, info: Info[Context, None], input: UpdateServiceInput
    ) -> ServicePayload:
        service, errors = await run_mutation(
            info,
            lambda session, actor: services.update_service(
                session, actor, node_pk(input.service_id, "Service", "serviceId"),
                expected_version=input.expected_version,
                name=input.name,
                summary=input.summary,
                objectives=input.objectives,
                owner_id=node_pk(input.owner_id, "Person", "ownerId") if input.owner_id else None,
                investment_category=input.investment_category,
                estimated_cost=optional_money(input.estimated_cost, "estimatedCost"),
                expected_benefit=optional_money(input.expected_benefit, "expectedBenefit"),
            ),
        )
        return ServicePayload(service=as_node(ServiceNode, service), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def add_requirement(
        self, info: Info[Context, None], input: AddRequirementInput
    ) -> RequirementPayload:
        requirement, errors = await run_mutation(
            info,
            lambda session, actor: services.add_requirement(
                session, actor, node_pk(input.service_id, "Service", "serviceId"), input.text
            ),
        )
        return RequirementPayload(requirement=as_node(RequirementNode, requirement),
                                  errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Judge a requirement NECESSARY or NOT_NECESSARY in ANALYSIS.")
    async def assess_requirement(
        self, info: Info[Context, None], input: AssessRequirementInput
    ) -> RequirementPayload:
        requirement, errors = await run_mutation(
            info,
            lambda session, actor: services.assess_requirement(
                session, actor,
                node_pk(input.requirement_id, "Requirement", "requirementId"),
                input.necessity, input.reason,
            ),
        )
        return RequirementPayload(requirement=as_node(RequirementNode, requirement),
                                  errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def add_stakeholder_input(
        self, info: Info[Context, None], input: AddStakeholderInputInput
    ) -> StakeholderInputPayload:
        stakeholder_input, errors = await run_mutation(
            info,
            lambda session, actor: services.add_stakeholder_input(
                session, actor, node_pk(input.service_id, "Service", "serviceId"),
                input.position, input.comment,
            ),
        )
        return StakeholderInputPayload(
            stakeholder_input=as_node(StakeholderInputNode, stakeholder_input), errors=errors
        )

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Move a service to another stage when its guards pass.")
    async def transition_service(
        self, info: Info[Context, None], input: TransitionServiceInput
    ) -> TransitionServicePayload:
        moved, errors = await run_mutation(
            info,
            lambda session, actor: transitions.transition_service(
                session, actor, info.context.plugins,
                node_pk(input.service_id, "Service", "serviceId"), input.to,
                reason=input.reason, expected_version=input.expected_version,
                planned_end_date=input.planned_end_date,
            ),
        )
        if moved is None:
            return TransitionServicePayload(errors=errors)
        service, change = moved
        return TransitionServicePayload(service=as_node(ServiceNode, service),
                                        stage_change=as_node(StageChangeNode, change))
