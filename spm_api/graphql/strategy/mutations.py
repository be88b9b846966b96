"""Strategy mutations: decode the input, call one domain command, shape the payload."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from spm_api.domain.strategy import cases, objectives, risks, settings
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.errors import UserError
from spm_api.graphql.core.ids import node_pk
from spm_api.graphql.core.nodes import as_node
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.unit_of_work import run_mutation
from spm_api.graphql.portfolio.types import ServiceNode, service_of
from spm_api.graphql.strategy.inputs import (
    AddRiskInput,
    AlignServiceInput,
    CloseRiskInput,
    CreateStrategicObjectiveInput,
    RecordRealisedBenefitInput,
    SetBusinessCaseInput,
    SetDiscountRateInput,
    SetTargetMixInput,
    UnalignServiceInput,
    UpdateRiskInput,
    UpdateStrategicObjectiveInput,
)
from spm_api.graphql.strategy.types import (
    RiskNode,
    ServiceAlignment,
    StrategicObjectiveNode,
    StrategyView,
    strategy_view,
)

ERRORS = "Why it was refused (nothing was written)."


@strawberry.type(description="The service with its business case now, or why not.")
class StrategyServicePayload:
    service_id: strawberry.Private[int | None] = None
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)

    @strawberry.field(description="The service, with its business case, risks and "
                                  "alignments now.")
    async def service(self, info: Info[Context, None]) -> ServiceNode | None:
        return await service_of(info, self.service_id)


@strawberry.type(description="The risk as it is now, or why not.")
class RiskPayload:
    risk: RiskNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)

    @strawberry.field(description="The service, with its risks now.")
    async def service(self, info: Info[Context, None]) -> ServiceNode | None:
        return await service_of(info, None if self.risk is None else self.risk.service_id)


@strawberry.type(description="The objective as it is now, or why not.")
class StrategicObjectivePayload:
    objective: StrategicObjectiveNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The alignment as it is now, or why not.")
class AlignmentPayload:
    alignment: ServiceAlignment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)

    @strawberry.field(description="The service, with its alignments now.")
    async def service(self, info: Info[Context, None]) -> ServiceNode | None:
        return await service_of(info, None if self.alignment is None
                                else self.alignment.service_id)


@strawberry.type(description="The organisation's strategy settings now, or why not.")
class StrategyPayload:
    strategy: StrategyView | None = None
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


def _service_payload(service: object | None, errors: list[UserError]) -> StrategyServicePayload:
    return StrategyServicePayload(service_id=getattr(service, "id", None), errors=errors)


@strawberry.type
class StrategyMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Replace a proposal's multi-year business case, in "
                                     "DEFINITION or ANALYSIS (contributors, portfolio "
                                     "managers, admins). Its estimated cost becomes the "
                                     "total cost of ownership, its expected benefit the "
                                     "total benefit.")
    async def set_business_case(self, info: Info[Context, None], input: SetBusinessCaseInput
                                ) -> StrategyServicePayload:
        service, errors = await run_mutation(
            info, lambda session, actor: cases.set_business_case(
                session, actor, node_pk(input.service_id, "Service", "serviceId"),
                [cases.YearInput(year.fiscal_year,
                                 year.investment.to_domain(f"years.{index}.investment"),
                                 year.running_cost.to_domain(f"years.{index}.runningCost"),
                                 year.benefit.to_domain(f"years.{index}.benefit"))
                 for index, year in enumerate(input.years)],
                input.expected_version))
        return _service_payload(service, errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Record the benefit a LIVE (or RETIRING) service "
                                     "realised in a fiscal year; recording the year again "
                                     "replaces it (finance, portfolio managers, admins).")
    async def record_realised_benefit(self, info: Info[Context, None],
                                      input: RecordRealisedBenefitInput) -> StrategyServicePayload:
        row, errors = await run_mutation(
            info, lambda session, actor: cases.record_realised_benefit(
                session, actor, node_pk(input.service_id, "Service", "serviceId"),
                input.fiscal_year, input.amount.to_domain("amount"), input.note))
        return StrategyServicePayload(service_id=None if row is None else row.service_id,
                              errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Raise a risk on a service (contributors, portfolio "
                                     "managers, admins).")
    async def add_risk(self, info: Info[Context, None], input: AddRiskInput) -> RiskPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: risks.add_risk(
                session, actor, node_pk(input.service_id, "Service", "serviceId"),
                description=input.description, likelihood=input.likelihood,
                impact=input.impact, mitigation=input.mitigation,
                owner_id=None if input.owner_id is None
                else node_pk(input.owner_id, "Person", "ownerId")))
        return RiskPayload(risk=as_node(RiskNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Change a risk that is not closed.")
    async def update_risk(self, info: Info[Context, None], input: UpdateRiskInput
                          ) -> RiskPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: risks.update_risk(
                session, actor, node_pk(input.risk_id, "Risk", "riskId"),
                description=input.description, likelihood=input.likelihood,
                impact=input.impact, mitigation=input.mitigation, status=input.status,
                owner_id=None if input.owner_id is None
                else node_pk(input.owner_id, "Person", "ownerId")))
        return RiskPayload(risk=as_node(RiskNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Close a risk for good, with the reason; it stays in "
                                     "the register and counts in no exposure.")
    async def close_risk(self, info: Info[Context, None], input: CloseRiskInput
                         ) -> RiskPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: risks.close_risk(
                session, actor, node_pk(input.risk_id, "Risk", "riskId"), input.reason))
        return RiskPayload(risk=as_node(RiskNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Add a strategic objective (portfolio managers, "
                                     "admins).")
    async def create_strategic_objective(self, info: Info[Context, None],
                                         input: CreateStrategicObjectiveInput
                                         ) -> StrategicObjectivePayload:
        row, errors = await run_mutation(
            info, lambda session, actor: objectives.create_objective(
                session, actor, input.name, input.description))
        return StrategicObjectivePayload(objective=as_node(StrategicObjectiveNode, row),
                                         errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Rename or redescribe a strategic objective.")
    async def update_strategic_objective(self, info: Info[Context, None],
                                         input: UpdateStrategicObjectiveInput
                                         ) -> StrategicObjectivePayload:
        row, errors = await run_mutation(
            info, lambda session, actor: objectives.update_objective(
                session, actor, node_pk(input.objective_id, "StrategicObjective",
                                        "objectiveId"),
                name=input.name, description=input.description))
        return StrategicObjectivePayload(objective=as_node(StrategicObjectiveNode, row),
                                         errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Align a service to a strategic objective with a "
                                     "weight (portfolio managers, admins).")
    async def align_service(self, info: Info[Context, None], input: AlignServiceInput
                            ) -> AlignmentPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: objectives.align_service(
                session, actor, node_pk(input.service_id, "Service", "serviceId"),
                node_pk(input.objective_id, "StrategicObjective", "objectiveId"),
                input.weight))
        return AlignmentPayload(alignment=as_node(ServiceAlignment, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Take a service's alignment to an objective away.")
    async def unalign_service(self, info: Info[Context, None], input: UnalignServiceInput
                              ) -> StrategyServicePayload:
        service, errors = await run_mutation(
            info, lambda session, actor: objectives.unalign_service(
                session, actor, node_pk(input.service_id, "Service", "serviceId"),
                node_pk(input.objective_id, "StrategicObjective", "objectiveId")))
        return _service_payload(service, errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Set the rate business cases are discounted at "
                                     "(finance, admins).")
    async def set_discount_rate(self, info: Info[Context, None], input: SetDiscountRateInput
                                ) -> StrategyPayload:
        found, errors = await run_mutation(
            info, lambda session, actor: settings.set_discount_rate(session, actor,
                                                                   input.rate))
        return StrategyPayload(strategy=None if found is None else strategy_view(found),
                               errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Set the run / grow / transform mix investment aims "
                                     "at (portfolio managers, admins).")
    async def set_target_mix(self, info: Info[Context, None], input: SetTargetMixInput
                             ) -> StrategyPayload:
        found, errors = await run_mutation(
            info, lambda session, actor: settings.set_target_mix(
                session, actor, input.run, input.grow, input.transform))
        return StrategyPayload(strategy=None if found is None else strategy_view(found),
                               errors=errors)
