"""Object types. Plain fields resolve by attribute lookup straight off the ORM rows;
only relations go through the request's DataLoaders."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from spm_api.domain.approvals import baseline
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import InvestmentCategory, Necessity, Position, Role, Section, Stage
from spm_api.graphql.core.money import Money, money_of
from spm_api.graphql.core.nodes import LoadedNode, present

if TYPE_CHECKING:
    from spm_api.graphql.approvals.types import (
        AffirmationNode,
        ApprovalRoundView,
        Baseline,
        Deviation,
    )
    from spm_api.graphql.finance.types import BudgetLineNode, ChargingPolicy
    from spm_api.graphql.market.types import ServiceOfferingNode
    from spm_api.graphql.reporting.types import StakeholderNode, StakeholderReportNode
    from spm_api.graphql.sourcing.types import CapabilityNode, EngagementNode
    from spm_api.graphql.stewardship.types import KpiNode, ServiceHealth
    from spm_api.graphql.strategy.types import (
        BusinessCase,
        RiskExposure,
        RiskNode,
        ServiceAlignment,
    )

APPROVAL_TYPES = "spm_api.graphql.approvals.types"
SOURCING_TYPES = "spm_api.graphql.sourcing.types"
FINANCE_TYPES = "spm_api.graphql.finance.types"
MARKET_TYPES = "spm_api.graphql.market.types"
STEWARDSHIP_TYPES = "spm_api.graphql.stewardship.types"
REPORTING_TYPES = "spm_api.graphql.reporting.types"
STRATEGY_TYPES = "spm_api.graphql.strategy.types"


async def service_of(info: Info[Context, None], service_id: int | None) -> ServiceNode | None:
    """The service with this id, through the request's loader (None for None)."""
    if service_id is None:
        return None
    found: ServiceNode | None = await info.context.loaders.service.load(
        service_id)
    return found


@strawberry.type(name="Organisation")
class OrganisationNode(LoadedNode):
    loader_name = "organisation"

    id: relay.NodeID[int]
    name: str = strawberry.field(description="The organisation's display name.")
    slug: str = strawberry.field(description="Its short unique name (the command line's "
                                             "--org).")
    currency: str = strawberry.field(description="ISO 4217 code the books are kept in.")
    fiscal_year_start_month: int = strawberry.field(
        description="The month (1-12) the fiscal year starts in.")
    created_at: datetime = strawberry.field(description="When the organisation was set up.")


@strawberry.type(name="Person")
class PersonNode(LoadedNode):
    loader_name = "person"

    id: relay.NodeID[int]
    name: str = strawberry.field(description="The person's name.")
    email: str = strawberry.field(
        description="Their e-mail address, in lower case: unique in the organisation.")
    organisation_id: strawberry.Private[int]
    created_at: datetime = strawberry.field(description="When the person was added.")
    deactivated_at: datetime | None = strawberry.field(
        description="Since when the person is deactivated (none of their tokens "
                    "authenticates); null while active.")

    @strawberry.field(description="Whether the person may use the API: not deactivated.")
    def active(self) -> bool:
        return self.deactivated_at is None

    @strawberry.field(description="The roles the person holds, by name.")
    async def roles(self, info: Info[Context, None]) -> list[Role]:
        return await info.context.loaders.roles_of_person.load(self.id)

    @strawberry.field(description="The organisation the person belongs to.")
    async def organisation(self, info: Info[Context, None]) -> OrganisationNode:
        return present(await info.context.loaders.organisation.load(self.organisation_id))


@strawberry.type(name="Requirement")
class RequirementNode(LoadedNode):
    loader_name = "requirement"

    id: relay.NodeID[int]
    text: str
    necessity: Necessity
    judgement_reason: str | None
    judged_at: datetime | None
    created_at: datetime
    service_id: strawberry.Private[int]
    created_by_id: strawberry.Private[int]
    judged_by_id: strawberry.Private[int | None]

    @strawberry.field
    async def created_by(self, info: Info[Context, None]) -> PersonNode | None:
        return await info.context.loaders.person.load(self.created_by_id)

    @strawberry.field
    async def judged_by(self, info: Info[Context, None]) -> PersonNode | None:
        if self.judged_by_id is None:
            return None
        return await info.context.loaders.person.load(self.judged_by_id)

    @strawberry.field
    async def service(self, info: Info[Context, None]) -> ServiceNode:
        return present(await info.context.loaders.service.load(self.service_id))


@strawberry.type(name="StakeholderInput")
class StakeholderInputNode(LoadedNode):
    loader_name = "stakeholder_input"

    id: relay.NodeID[int]
    position: Position
    comment: str
    created_at: datetime
    service_id: strawberry.Private[int]
    author_id: strawberry.Private[int]

    @strawberry.field
    async def author(self, info: Info[Context, None]) -> PersonNode | None:
        return await info.context.loaders.person.load(self.author_id)

    @strawberry.field
    async def service(self, info: Info[Context, None]) -> ServiceNode:
        return present(await info.context.loaders.service.load(self.service_id))


@strawberry.type(name="StageChange", description="Immutable audit record of one transition.")
class StageChangeNode(LoadedNode):
    loader_name = "stage_change"

    id: relay.NodeID[int]
    from_stage: Stage | None
    to_stage: Stage
    reason: str
    at: datetime
    service_id: strawberry.Private[int]
    actor_id: strawberry.Private[int]

    @strawberry.field
    async def actor(self, info: Info[Context, None]) -> PersonNode | None:
        return await info.context.loaders.person.load(self.actor_id)

    @strawberry.field
    async def service(self, info: Info[Context, None]) -> ServiceNode:
        return present(await info.context.loaders.service.load(self.service_id))


@strawberry.type(name="Service", description="An IT service in the portfolio.")
class ServiceNode(LoadedNode):
    loader_name = "service"

    id: relay.NodeID[int]
    name: str
    summary: str
    objectives: str
    investment_category: InvestmentCategory
    stage: Stage
    section: Section
    version: int = strawberry.field(
        description="Bumped on every change; pass it back as expectedVersion."
    )
    created_at: datetime
    updated_at: datetime
    planned_end_date: date | None = strawberry.field(
        description="From RETIRING on: the last day the service is delivered; usage and "
                    "charges for later months are refused (SERVICE_ENDED).")
    owner_id: strawberry.Private[int | None]
    successor_id: strawberry.Private[int | None]

    @strawberry.field(description="Business case: what delivering it is expected to cost.")
    async def estimated_cost(self, info: Info[Context, None], root: strawberry.Parent[Any]
                             ) -> Money | None:
        return await money_of(info, root.estimated_cost)

    @strawberry.field(description="Business case: what it is expected to bring.")
    async def expected_benefit(self, info: Info[Context, None], root: strawberry.Parent[Any]
                               ) -> Money | None:
        return await money_of(info, root.expected_benefit)

    @strawberry.field(description="Planned cost per month and category, oldest first.")
    async def budget_lines(
        self, info: Info[Context, None]
    ) -> list[Annotated[BudgetLineNode, strawberry.lazy(FINANCE_TYPES)]]:
        return await info.context.loaders.budget_lines_of_service.load(self.id)

    @strawberry.field(description="How the service is charged; null for a cost centre.")
    async def charging_policy(
        self, info: Info[Context, None]
    ) -> Annotated[ChargingPolicy, strawberry.lazy(FINANCE_TYPES)] | None:
        return await info.context.loaders.charging_policy_of_service.load(self.id)

    @strawberry.field(description="What delivering it needs, and who delivers each.")
    async def capabilities(
        self, info: Info[Context, None]
    ) -> list[Annotated[CapabilityNode, strawberry.lazy(SOURCING_TYPES)]]:
        return await info.context.loaders.capabilities_of_service.load(self.id)

    @strawberry.field(description="Engagement requests to contractors, from chartering on.")
    async def engagements(
        self, info: Info[Context, None]
    ) -> list[Annotated[EngagementNode, strawberry.lazy(SOURCING_TYPES)]]:
        return await info.context.loaders.engagements_of_service.load(self.id)

    @strawberry.field
    async def owner(self, info: Info[Context, None]) -> PersonNode | None:
        if self.owner_id is None:
            return None
        return await info.context.loaders.person.load(self.owner_id)

    @strawberry.field(description="The service that replaces this one (REPLACE) or that it "
                                  "is merged into (RATIONALISE), as a decided portfolio "
                                  "review set it; null otherwise.")
    async def successor(self, info: Info[Context, None]) -> ServiceNode | None:
        if self.successor_id is None:
            return None
        return await info.context.loaders.service.load(self.successor_id)

    @strawberry.field
    async def requirements(self, info: Info[Context, None]) -> list[RequirementNode]:
        return await info.context.loaders.requirements_of_service.load(self.id)

    @strawberry.field
    async def stakeholder_inputs(self, info: Info[Context, None]) -> list[StakeholderInputNode]:
        return await info.context.loaders.stakeholder_inputs_of_service.load(self.id)

    @strawberry.field(description="The stage history, oldest first.")
    async def stage_changes(self, info: Info[Context, None]) -> list[StageChangeNode]:
        return await info.context.loaders.stage_changes_of_service.load(self.id)

    @strawberry.field(description="The latest approval round; null before APPROVAL.")
    async def approval(
        self, info: Info[Context, None]
    ) -> Annotated[ApprovalRoundView, strawberry.lazy(APPROVAL_TYPES)] | None:
        from spm_api.graphql.approvals.types import approval_of

        return await approval_of(info, self)

    @strawberry.field(description="Every approval round, oldest first: a reworked proposal "
                                  "keeps the rounds that rejected it.")
    async def approval_rounds(
        self, info: Info[Context, None]
    ) -> list[Annotated[ApprovalRoundView, strawberry.lazy(APPROVAL_TYPES)]]:
        from spm_api.graphql.approvals.types import approval_rounds_of

        return await approval_rounds_of(info, self)

    @strawberry.field(description="What was agreed at chartering; null before.")
    async def baseline(
        self, info: Info[Context, None]
    ) -> Annotated[Baseline, strawberry.lazy(APPROVAL_TYPES)] | None:
        from spm_api.graphql.approvals.types import Baseline

        rows = await info.context.loaders.baselines_of_service.load(self.id)
        return Baseline(row=rows[0]) if rows else None

    @strawberry.field(description="What changed since the baseline, for the stakeholders.")
    async def deviations(
        self, info: Info[Context, None]
    ) -> list[Annotated[Deviation, strawberry.lazy(APPROVAL_TYPES)]]:
        from spm_api.graphql.approvals.types import Deviation

        rows = await info.context.loaders.baselines_of_service.load(self.id)
        if not rows:
            return []
        loaders = info.context.loaders
        requirements = await loaders.requirements_of_service.load(self.id)
        capabilities = await loaders.capabilities_of_service.load(self.id)
        budget = await loaders.monthly_budget_of_service.load(self.id)
        plan = baseline.Plan(requirements, capabilities,  # type: ignore[arg-type]
                             sum((amount for _, amount in budget), Decimal(0)))
        return [
            Deviation(aspect=d.aspect, kind=d.kind, subject=d.subject, baseline=d.baseline,
                      current=d.current, description=d.description)
            for d in baseline.deviations(rows[0].content, self, plan)  # type: ignore[arg-type]
        ]

    @strawberry.field(description="Its KPIs, in the order they were defined.")
    async def kpis(
        self, info: Info[Context, None]
    ) -> list[Annotated[KpiNode, strawberry.lazy(STEWARDSHIP_TYPES)]]:
        return await info.context.loaders.kpis_of_service.load(self.id)

    @strawberry.field(description="How it stands against its KPIs' targets; null unless "
                                  "LIVE.")
    async def health(
        self, info: Info[Context, None], root: strawberry.Parent[Any]
    ) -> Annotated[ServiceHealth, strawberry.lazy(STEWARDSHIP_TYPES)] | None:
        from spm_api.graphql.stewardship.types import health_of

        return await health_of(info, root)

    @strawberry.field(description="The people registered with a stake in it, in the order "
                                  "they were added.")
    async def stakeholders(
        self, info: Info[Context, None]
    ) -> list[Annotated[StakeholderNode, strawberry.lazy(REPORTING_TYPES)]]:
        return await info.context.loaders.stakeholders_of_service.load(self.id)

    @strawberry.field(description="The stakeholder reports issued on it, newest first.")
    async def stakeholder_reports(
        self, info: Info[Context, None]
    ) -> list[Annotated[StakeholderReportNode, strawberry.lazy(REPORTING_TYPES)]]:
        return list(reversed(
            await info.context.loaders.stakeholder_reports_of_service.load(self.id)))
    @strawberry.field(description="Its multi-year business case and its figures (NPV, "
                                  "payback, ROI, TCO), with the benefits realised since "
                                  "it went live; null without one.")
    async def business_case(
        self, info: Info[Context, None]
    ) -> Annotated[BusinessCase, strawberry.lazy(STRATEGY_TYPES)] | None:
        from spm_api.graphql.strategy.types import business_case_of

        return await business_case_of(info, self.id)

    @strawberry.field(description="Its risk register, highest exposure first (then oldest "
                                  "first); CLOSED risks only when asked for.")
    async def risks(
        self, info: Info[Context, None], include_closed: bool = False
    ) -> list[Annotated[RiskNode, strawberry.lazy(STRATEGY_TYPES)]]:
        from spm_api.domain.strategy.risks import register

        found = await info.context.loaders.risks_of_service.load(self.id)
        return register(found, include_closed)  # type: ignore[arg-type, return-value]

    @strawberry.field(description="The exposure of its risks that are not CLOSED.")
    async def risk_exposure(
        self, info: Info[Context, None]
    ) -> Annotated[RiskExposure, strawberry.lazy(STRATEGY_TYPES)]:
        from spm_api.domain.strategy.risks import exposure_of
        from spm_api.graphql.strategy.types import exposure_view

        found = await info.context.loaders.risks_of_service.load(self.id)
        return exposure_view(exposure_of(found))  # type: ignore[arg-type]

    @strawberry.field(description="The strategic objectives it is aligned to, with weights.")
    async def alignments(
        self, info: Info[Context, None]
    ) -> list[Annotated[ServiceAlignment, strawberry.lazy(STRATEGY_TYPES)]]:
        return await info.context.loaders.alignments_of_service.load(self.id)

    @strawberry.field(description="The offerings that package it.")
    async def offerings(
        self, info: Info[Context, None]
    ) -> list[Annotated[ServiceOfferingNode, strawberry.lazy(MARKET_TYPES)]]:
        return await info.context.loaders.offerings_of_service.load(self.id)

    @strawberry.field(description="Stakeholders' affirmations of the outcome, oldest first.")
    async def affirmations(
        self, info: Info[Context, None]
    ) -> list[Annotated[AffirmationNode, strawberry.lazy(APPROVAL_TYPES)]]:
        return await info.context.loaders.affirmations_of_service.load(self.id)
