"""Stakeholder mutations (portfolio managers, admins): decode, call the domain, shape."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from spm_api.domain.reporting import stakeholders
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.errors import UserError
from spm_api.graphql.core.ids import node_pk
from spm_api.graphql.core.nodes import as_node
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.unit_of_work import run_mutation
from spm_api.graphql.portfolio.types import ServiceNode, service_of
from spm_api.graphql.reporting.inputs import AddStakeholderInput, RemoveStakeholderInput
from spm_api.graphql.reporting.types import StakeholderNode


@strawberry.type(description="The registration made, or why not.")
class AddStakeholderPayload:
    stakeholder: StakeholderNode | None = strawberry.field(
        default=None, description="The new registration.")
    errors: list[UserError] = strawberry.field(default_factory=list,
                                               description="Why it was refused.")

    @strawberry.field(description="The service, with its stakeholders now.")
    async def service(self, info: Info[Context, None]) -> ServiceNode | None:
        return await service_of(info, None if self.stakeholder is None
                                else self.stakeholder.service_id)


@strawberry.type(description="The registration removed, or why not.")
class RemoveStakeholderPayload:
    removed_id: strawberry.ID | None = strawberry.field(
        default=None, description="The id of the registration removed.")
    service_id: strawberry.Private[int | None] = None
    errors: list[UserError] = strawberry.field(default_factory=list,
                                               description="Why it was refused.")

    @strawberry.field(description="The service, with its stakeholders now.")
    async def service(self, info: Info[Context, None]) -> ServiceNode | None:
        return await service_of(info, self.service_id)


@strawberry.type
class ReportingMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Register a person of your organisation with a role on "
                                     "a service (portfolio managers, admins).")
    async def add_stakeholder(self, info: Info[Context, None], input: AddStakeholderInput
                              ) -> AddStakeholderPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: stakeholders.add_stakeholder(
                session, actor, node_pk(input.service_id, "Service", "serviceId"),
                node_pk(input.person_id, "Person", "personId"), input.role))
        return AddStakeholderPayload(stakeholder=as_node(StakeholderNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Remove a stakeholder registration (portfolio managers, "
                                     "admins).")
    async def remove_stakeholder(self, info: Info[Context, None],
                                 input: RemoveStakeholderInput) -> RemoveStakeholderPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: stakeholders.remove_stakeholder(
                session, actor, node_pk(input.stakeholder_id, "Stakeholder",
                                        "stakeholderId")))
        if row is None:
            return RemoveStakeholderPayload(errors=errors)
        return RemoveStakeholderPayload(removed_id=input.stakeholder_id,
                                        service_id=row.service_id)
