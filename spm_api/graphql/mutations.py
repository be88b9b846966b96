"""Root mutation fields: decode the input, call one domain command, shape the payload."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from spm_api.domain import (
    affirmations,
    approval_policy,
    services,
    tenancy,
    transitions,
    voting,
)
from spm_api.graphql.approval_types import ApprovalRoundView
from spm_api.graphql.context import Context
from spm_api.graphql.finance_mutations import FinanceMutation
from spm_api.graphql.inputs import (
    AddRequirementInput,
    AddStakeholderInputInput,
    AffirmServiceInput,
    AssessRequirementInput,
    CastVoteInput,
    ConfigurePluginInput,
    CreateServiceInput,
    SetApprovalRulesInput,
    TransitionServiceInput,
    UpdateOrganisationSettingsInput,
    UpdateServiceInput,
    node_pk,
)
from spm_api.graphql.money import optional_money
from spm_api.graphql.payloads import (
    AffirmServicePayload,
    ApprovalRulesPayload,
    CastVotePayload,
    ConfigurePluginPayload,
    OrganisationPayload,
    RequirementPayload,
    ServicePayload,
    StakeholderInputPayload,
    TransitionServicePayload,
)
from spm_api.graphql.permissions import AUTHENTICATED
from spm_api.graphql.sourcing_mutations import SourcingMutation
from spm_api.graphql.unit_of_work import run_mutation


@strawberry.type
class Mutation(FinanceMutation, SourcingMutation):
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
        return ServicePayload(service=service, errors=errors)  # type: ignore[arg-type]

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
        return ServicePayload(service=service, errors=errors)  # type: ignore[arg-type]

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
        return RequirementPayload(requirement=requirement, errors=errors)  # type: ignore[arg-type]

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
        return RequirementPayload(requirement=requirement, errors=errors)  # type: ignore[arg-type]

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
            stakeholder_input=stakeholder_input, errors=errors  # type: ignore[arg-type]
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
            ),
        )
        if moved is None:
            return TransitionServicePayload(errors=errors)
        service, change = moved
        return TransitionServicePayload(service=service, stage_change=change)  # type: ignore[arg-type]

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Vote on a service in APPROVAL (decision makers). A "
                                     "later vote replaces your earlier one in the count.")
    async def cast_vote(self, info: Info[Context, None], input: CastVoteInput
                        ) -> CastVotePayload:
        outcome, errors = await run_mutation(
            info,
            lambda session, actor: voting.cast_vote(
                session, actor, info.context.plugins,
                node_pk(input.service_id, "Service", "serviceId"),
                input.decision, input.comment,
            ),
        )
        if outcome is None:
            return CastVotePayload(errors=errors)
        return CastVotePayload(
            vote=outcome.vote,  # type: ignore[arg-type]
            service=outcome.service,  # type: ignore[arg-type]
            approval=ApprovalRoundView(round=outcome.approval_round, all_votes=outcome.votes,
                                       result=outcome.result,
                                       decision_maker_count=outcome.decision_maker_count),
            stage_change=outcome.stage_change,  # type: ignore[arg-type]
        )

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Affirm the delivered outcome of a chartered or live "
                                     "service, having seen its deviations from the baseline.")
    async def affirm_service(self, info: Info[Context, None], input: AffirmServiceInput
                             ) -> AffirmServicePayload:
        affirmation, errors = await run_mutation(
            info,
            lambda session, actor: affirmations.affirm_service(
                session, actor, node_pk(input.service_id, "Service", "serviceId"),
                input.comment,
            ),
        )
        return AffirmServicePayload(affirmation=affirmation, errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Choose the organisation's approval rules (admins).")
    async def set_approval_rules(self, info: Info[Context, None], input: SetApprovalRulesInput
                                 ) -> ApprovalRulesPayload:
        rules, errors = await run_mutation(
            info,
            lambda session, actor: approval_policy.choose_rules(
                session, actor, info.context.plugins, input.rules),
        )
        return ApprovalRulesPayload(rules=list(rules) if rules else None, errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Store the organisation's settings for a plugin (admins).")
    async def configure_plugin(self, info: Info[Context, None], input: ConfigurePluginInput
                               ) -> ConfigurePluginPayload:
        row, errors = await run_mutation(
            info,
            lambda session, actor: approval_policy.configure_plugin(
                session, actor, info.context.plugins, input.plugin,
                input.settings),  # type: ignore[arg-type]
        )
        if row is None:
            return ConfigurePluginPayload(errors=errors)
        return ConfigurePluginPayload(plugin=row.plugin, settings=row.settings)  # type: ignore[arg-type]

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Set the organisation's currency and fiscal year start "
                                     "(admins).")
    async def update_organisation_settings(
        self, info: Info[Context, None], input: UpdateOrganisationSettingsInput
    ) -> OrganisationPayload:
        organisation, errors = await run_mutation(
            info,
            lambda session, actor: tenancy.update_finance_settings(
                session, actor, currency=input.currency,
                fiscal_year_start_month=input.fiscal_year_start_month),
        )
        return OrganisationPayload(organisation=organisation, errors=errors)  # type: ignore[arg-type]
