"""Approval mutations: votes, affirmations, the rules applied and plugin settings."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from spm_api.domain.approvals import affirmations, voting
from spm_api.domain.approvals import policy as approval_policy
from spm_api.graphql.approvals.inputs import (
    AffirmServiceInput,
    CastVoteInput,
    ConfigurePluginInput,
    SetApprovalRulesInput,
)
from spm_api.graphql.approvals.payloads import (
    AffirmServicePayload,
    ApprovalRulesPayload,
    CastVotePayload,
    ConfigurePluginPayload,
)
from spm_api.graphql.approvals.types import AffirmationNode, ApprovalRoundView, VoteNode
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import node_pk
from spm_api.graphql.core.nodes import as_node
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.unit_of_work import run_mutation
from spm_api.graphql.portfolio.types import ServiceNode, StageChangeNode


@strawberry.type
class ApprovalsMutation:
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
            vote=as_node(VoteNode, outcome.vote),
            service=as_node(ServiceNode, outcome.service),
            approval=ApprovalRoundView(round=outcome.approval_round, all_votes=outcome.votes,
                                       service=outcome.service, result=outcome.result,
                                       known_decision_makers=outcome.decision_maker_count),
            stage_change=as_node(StageChangeNode, outcome.stage_change),
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
        return AffirmServicePayload(affirmation=as_node(AffirmationNode, affirmation),
                                    errors=errors)

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
