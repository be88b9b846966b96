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


@strawberry.input(description="Issue a stakeholder report on a service.")
class IssueStakeholderReportInput:
    service_id: strawberry.ID = strawberry.field(
        description="A CHARTERED, LIVE or RETIRING service.")


@strawberry.input(description="Affirm that the deliverable meets the charter.")
class AffirmDeliverableInput:
    service_id: strawberry.ID = strawberry.field(description="The service.")
    comment: str = strawberry.field(default="", description="Anything to add.")
    report_id: strawberry.ID | None = strawberry.field(
        default=None, description="The report you were given; the newest when left out.")


@strawberry.input(description="Dispute the deliverable, saying why.")
class DisputeDeliverableInput:
    service_id: strawberry.ID = strawberry.field(description="The service.")
    reason: str = strawberry.field(description="Why it does not meet the charter.")
    report_id: strawberry.ID | None = strawberry.field(
        default=None, description="The report you were given; the newest when left out.")


@strawberry.input(description="Settle a stakeholder's dispute.")
class ResolveDisputeInput:
    dispute_id: strawberry.ID = strawberry.field(
        description="The dispute (an Affirmation whose verdict is DISPUTED).")
    resolution: str = strawberry.field(description="How it was settled.")
