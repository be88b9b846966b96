"""Stakeholder mutations (portfolio managers, admins): decode, call the domain, shape."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from spm_api.domain.reporting import reports, stakeholders, verdicts
from spm_api.graphql.approvals.types import AffirmationNode
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.errors import UserError
from spm_api.graphql.core.ids import node_pk
from spm_api.graphql.core.nodes import as_node
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.unit_of_work import run_mutation
from spm_api.graphql.portfolio.types import ServiceNode, service_of
from spm_api.graphql.reporting.inputs import (
    AddStakeholderInput,
    AffirmDeliverableInput,
    DisputeDeliverableInput,
    IssueStakeholderReportInput,
    RemoveStakeholderInput,
    ResolveDisputeInput,
)
from spm_api.graphql.reporting.types import StakeholderNode, StakeholderReportNode


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


@strawberry.type(description="The report issued, or why not.")
class IssueStakeholderReportPayload:
    report: StakeholderReportNode | None = strawberry.field(
        default=None, description="The new report.")
    errors: list[UserError] = strawberry.field(default_factory=list,
                                               description="Why it was refused.")

    @strawberry.field(description="The service, with its reports now.")
    async def service(self, info: Info[Context, None]) -> ServiceNode | None:
        return await service_of(info, None if self.report is None else self.report.service_id)


@strawberry.type(description="The verdict recorded or settled, or why not.")
class VerdictPayload:
    affirmation: AffirmationNode | None = strawberry.field(
        default=None, description="The affirmation or dispute.")
    errors: list[UserError] = strawberry.field(default_factory=list,
                                               description="Why it was refused.")

    @strawberry.field(description="The service, with its affirmations now.")
    async def service(self, info: Info[Context, None]) -> ServiceNode | None:
        return await service_of(info, None if self.affirmation is None
                                else self.affirmation.service_id)


def _report_pk(raw: strawberry.ID | None) -> int | None:
    return None if raw is None else node_pk(raw, "StakeholderReport", "reportId")


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

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Issue the next stakeholder report on a CHARTERED, LIVE "
                                     "or RETIRING service: a frozen snapshot of the baseline "
                                     "and now, the deviations, the KPIs and the affirmations "
                                     "(portfolio managers, admins). Publishes "
                                     "stakeholderReportIssued.")
    async def issue_stakeholder_report(self, info: Info[Context, None],
                                       input: IssueStakeholderReportInput
                                       ) -> IssueStakeholderReportPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: reports.issue_stakeholder_report(
                session, actor, info.context.plugins,
                node_pk(input.service_id, "Service", "serviceId")))
        return IssueStakeholderReportPayload(report=as_node(StakeholderReportNode, row),
                                             errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Affirm that the deliverable meets the charter (the "
                                     "service's registered stakeholders).")
    async def affirm_deliverable(self, info: Info[Context, None],
                                 input: AffirmDeliverableInput) -> VerdictPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: verdicts.affirm_deliverable(
                session, actor, node_pk(input.service_id, "Service", "serviceId"),
                input.comment, _report_pk(input.report_id)))
        return VerdictPayload(affirmation=as_node(AffirmationNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Dispute the deliverable, with a reason (the service's "
                                     "registered stakeholders); blocks CHARTERED → LIVE "
                                     "until a portfolio manager resolves it.")
    async def dispute_deliverable(self, info: Info[Context, None],
                                  input: DisputeDeliverableInput) -> VerdictPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: verdicts.dispute_deliverable(
                session, actor, node_pk(input.service_id, "Service", "serviceId"),
                input.reason, _report_pk(input.report_id)))
        return VerdictPayload(affirmation=as_node(AffirmationNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Settle a stakeholder's dispute, saying how (portfolio "
                                     "managers, admins); it no longer blocks LIVE.")
    async def resolve_dispute(self, info: Info[Context, None], input: ResolveDisputeInput
                              ) -> VerdictPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: verdicts.resolve_dispute(
                session, actor, node_pk(input.dispute_id, "Affirmation", "disputeId"),
                input.resolution))
        return VerdictPayload(affirmation=as_node(AffirmationNode, row), errors=errors)
