"""Inputs for registering stakeholders."""

from __future__ import annotations

import strawberry

from spm_api.graphql.core.enums import StakeholderRole


@strawberry.input(description="Register a person with a role on a service.")
class AddStakeholderInput:
    service_id: strawberry.ID = strawberry.field(description="The service.")
    person_id: strawberry.ID = strawberry.field(
        description="A person of your organisation.")
    role: StakeholderRole = strawberry.field(description="Their stake in the service.")


@strawberry.input(description="Remove one stakeholder registration.")
class RemoveStakeholderInput:
    stakeholder_id: strawberry.ID = strawberry.field(description="The registration.")
