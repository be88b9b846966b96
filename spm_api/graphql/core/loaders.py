"""Per-request DataLoaders: one SQL statement per level of a query, whatever the row count.

The batch reads are the domain's (``domain.batches``); a loader only binds one to the
request's session, organisation and lock. Each loader is typed with the GraphQL type its
rows stand for: rows pass as GraphQL objects unchanged (``LoadedNode.is_type_of``), so this
is the one place that says so, instead of every resolver.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from spm_api.domain import batches, rows
from spm_api.domain.approvals.rounds import ApprovalSetup
from spm_api.domain.session import Session
from spm_api.domain.stewardship.readings import Current
from spm_api.domain.strategy.settings import Strategy
from spm_api.observability import tracing
from spm_api.vocabulary.enums import Role

if TYPE_CHECKING:
    from spm_api.graphql.approvals.types import AffirmationNode, VoteNode
    from spm_api.graphql.finance.types import (
        BudgetLineNode,
        ChargingPolicy,
        CostEntryNode,
        CustomerNode,
        StatementNode,
    )
    from spm_api.graphql.market.types import (
        CustomerNeedNode,
        CustomerSubscriptionNode,
        MarketSegmentNode,
        MarketSpaceNode,
        ServiceLevel,
        ServiceOfferingNode,
    )
    from spm_api.graphql.portfolio.types import (
        OrganisationNode,
        PersonNode,
        RequirementNode,
        ServiceNode,
        StageChangeNode,
        StakeholderInputNode,
    )
    from spm_api.graphql.reporting.types import StakeholderNode, StakeholderReportNode
    from spm_api.graphql.sourcing.types import (
        CapabilityNode,
        ContractorNode,
        EngagementAttempt,
        EngagementNode,
        Quote,
    )
    from spm_api.graphql.stewardship.types import KpiNode
    from spm_api.graphql.strategy.types import (
        RiskNode,
        ServiceAlignment,
        StrategicObjectiveNode,
    )


class Loaders:
    """Loaders bound to one session and one organisation; rebuilt after each commit."""

    def __init__(self, session: Session, organisation_id: int, lock: asyncio.Lock) -> None:
        self._session = session
        self._organisation_id = organisation_id
        self._lock = lock
        #: Approval round results (or the refusal) by round id, worked out once.
        self.round_results: dict[int, Any] = {}
        #: Health assessments (or the refusal) by service id, worked out once.
        self.health_results: dict[int, Any] = {}

    # Each loader is built on first use: a request (or a subscription event) pays only
    # for the relations its selection touches.

    @cached_property
    def service(self) -> DataLoader[int, ServiceNode | None]:
        return self._loader("service")

    @cached_property
    def person(self) -> DataLoader[int, PersonNode | None]:
        return self._loader("person")

    @cached_property
    def requirement(self) -> DataLoader[int, RequirementNode | None]:
        return self._loader("requirement")

    @cached_property
    def stakeholder_input(self) -> DataLoader[int, StakeholderInputNode | None]:
        return self._loader("stakeholder_input")

    @cached_property
    def stage_change(self) -> DataLoader[int, StageChangeNode | None]:
        return self._loader("stage_change")

    @cached_property
    def roles_of_person(self) -> DataLoader[int, list[Role]]:
        return self._loader("roles_of_person")

    @cached_property
    def requirements_of_service(self) -> DataLoader[int, list[RequirementNode]]:
        return self._loader("requirements_of_service")

    @cached_property
    def stakeholder_inputs_of_service(self) -> DataLoader[int, list[StakeholderInputNode]]:
        return self._loader("stakeholder_inputs_of_service")

    @cached_property
    def stage_changes_of_service(self) -> DataLoader[int, list[StageChangeNode]]:
        return self._loader("stage_changes_of_service")

    @cached_property
    def organisation(self) -> DataLoader[int, OrganisationNode | None]:
        return self._loader("organisation")

    @cached_property
    def vote(self) -> DataLoader[int, VoteNode | None]:
        return self._loader("vote")

    @cached_property
    def affirmation(self) -> DataLoader[int, AffirmationNode | None]:
        return self._loader("affirmation")

    @cached_property
    def approval_rounds_of_service(self) -> DataLoader[int, list[rows.ApprovalRound]]:
        return self._loader("approval_rounds_of_service")

    @cached_property
    def baselines_of_service(self) -> DataLoader[int, list[rows.Baseline]]:
        return self._loader("baselines_of_service")

    @cached_property
    def affirmations_of_service(self) -> DataLoader[int, list[AffirmationNode]]:
        return self._loader("affirmations_of_service")

    @cached_property
    def votes_of_round(self) -> DataLoader[int, list[rows.Vote]]:
        return self._loader("votes_of_round")

    @cached_property
    def approval_setup(self) -> DataLoader[int, ApprovalSetup]:
        return self._loader("approval_setup")

    @cached_property
    def customer(self) -> DataLoader[int, CustomerNode | None]:
        return self._loader("customer")

    @cached_property
    def statement(self) -> DataLoader[int, StatementNode | None]:
        return self._loader("statement")

    @cached_property
    def budget_line(self) -> DataLoader[int, BudgetLineNode | None]:
        return self._loader("budget_line")

    @cached_property
    def cost_entry(self) -> DataLoader[int, CostEntryNode | None]:
        return self._loader("cost_entry")

    @cached_property
    def budget_lines_of_service(self) -> DataLoader[int, list[BudgetLineNode]]:
        return self._loader("budget_lines_of_service")

    @cached_property
    def lines_of_statement(self) -> DataLoader[int, list[rows.StatementLine]]:
        return self._loader("lines_of_statement")

    @cached_property
    def charging_policy_of_service(self) -> DataLoader[int, ChargingPolicy | None]:
        return self._loader("charging_policy_of_service")

    @cached_property
    def contractor(self) -> DataLoader[int, ContractorNode | None]:
        return self._loader("contractor")

    @cached_property
    def capability(self) -> DataLoader[int, CapabilityNode | None]:
        return self._loader("capability")

    @cached_property
    def engagement(self) -> DataLoader[int, EngagementNode | None]:
        return self._loader("engagement")

    @cached_property
    def capabilities_of_service(self) -> DataLoader[int, list[CapabilityNode]]:
        return self._loader("capabilities_of_service")

    @cached_property
    def engagements_of_service(self) -> DataLoader[int, list[EngagementNode]]:
        return self._loader("engagements_of_service")

    @cached_property
    def quotes_of_capability(self) -> DataLoader[int, list[Quote]]:
        return self._loader("quotes_of_capability")

    @cached_property
    def attempts_of_engagement(self) -> DataLoader[int, list[EngagementAttempt]]:
        return self._loader("attempts_of_engagement")

    @cached_property
    def monthly_budget_of_service(self) -> DataLoader[int, list[tuple[str, Decimal]]]:
        return self._loader("monthly_budget_of_service")

    @cached_property
    def kpi(self) -> DataLoader[int, KpiNode | None]:
        return self._loader("kpi")

    @cached_property
    def measurement(self) -> DataLoader[int, Any]:
        return self._loader("measurement")

    @cached_property
    def kpis_of_service(self) -> DataLoader[int, list[KpiNode]]:
        return self._loader("kpis_of_service")

    @cached_property
    def readings_of_service(self) -> DataLoader[int, list[tuple[Any, Current | None]]]:
        return self._loader("readings_of_service")

    @cached_property
    def stakeholder(self) -> DataLoader[int, StakeholderNode | None]:
        return self._loader("stakeholder")

    @cached_property
    def stakeholders_of_service(self) -> DataLoader[int, list[StakeholderNode]]:
        return self._loader("stakeholders_of_service")

    @cached_property
    def stakeholder_report(self) -> DataLoader[int, StakeholderReportNode | None]:
        return self._loader("stakeholder_report")

    @cached_property
    def stakeholder_reports_of_service(self) -> DataLoader[int, list[StakeholderReportNode]]:
        return self._loader("stakeholder_reports_of_service")

    @cached_property
    def plugin_settings(self) -> DataLoader[int, dict[str, Any]]:
        return self._loader("plugin_settings")

    @cached_property
    def case_years_of_service(self) -> DataLoader[int, list[Any]]:
        return self._loader("case_years_of_service")

    @cached_property
    def realised_benefits_of_service(self) -> DataLoader[int, list[Any]]:
        return self._loader("realised_benefits_of_service")

    @cached_property
    def risk(self) -> DataLoader[int, RiskNode | None]:
        return self._loader("risk")

    @cached_property
    def risks_of_service(self) -> DataLoader[int, list[RiskNode]]:
        return self._loader("risks_of_service")

    @cached_property
    def strategic_objective(self) -> DataLoader[int, StrategicObjectiveNode | None]:
        return self._loader("strategic_objective")

    @cached_property
    def alignments_of_service(self) -> DataLoader[int, list[ServiceAlignment]]:
        return self._loader("alignments_of_service")

    @cached_property
    def alignments_of_objective(self) -> DataLoader[int, list[ServiceAlignment]]:
        return self._loader("alignments_of_objective")

    @cached_property
    def strategy(self) -> DataLoader[int, Strategy | None]:
        return self._loader("strategy")

    @cached_property
    def market_space(self) -> DataLoader[int, MarketSpaceNode | None]:
        return self._loader("market_space")

    @cached_property
    def market_segment(self) -> DataLoader[int, MarketSegmentNode | None]:
        return self._loader("market_segment")

    @cached_property
    def customer_need(self) -> DataLoader[int, CustomerNeedNode | None]:
        return self._loader("customer_need")

    @cached_property
    def service_offering(self) -> DataLoader[int, ServiceOfferingNode | None]:
        return self._loader("service_offering")

    @cached_property
    def subscription(self) -> DataLoader[int, CustomerSubscriptionNode | None]:
        return self._loader("subscription")

    @cached_property
    def segments_of_space(self) -> DataLoader[int, list[MarketSegmentNode]]:
        return self._loader("segments_of_space")

    @cached_property
    def customers_of_segment(self) -> DataLoader[int, list[CustomerNode]]:
        return self._loader("customers_of_segment")

    @cached_property
    def needs_of_segment(self) -> DataLoader[int, list[CustomerNeedNode]]:
        return self._loader("needs_of_segment")

    @cached_property
    def needs_of_customer(self) -> DataLoader[int, list[CustomerNeedNode]]:
        return self._loader("needs_of_customer")

    @cached_property
    def offerings_of_segment(self) -> DataLoader[int, list[ServiceOfferingNode]]:
        return self._loader("offerings_of_segment")

    @cached_property
    def levels_of_offering(self) -> DataLoader[int, list[ServiceLevel]]:
        return self._loader("levels_of_offering")

    @cached_property
    def subscriptions_of_offering(self) -> DataLoader[int, list[CustomerSubscriptionNode]]:
        return self._loader("subscriptions_of_offering")

    @cached_property
    def subscriptions_of_customer(self) -> DataLoader[int, list[CustomerSubscriptionNode]]:
        return self._loader("subscriptions_of_customer")

    @cached_property
    def services_of_offering(self) -> DataLoader[int, list[ServiceNode]]:
        return self._loader("services_of_offering")

    @cached_property
    def offerings_of_service(self) -> DataLoader[int, list[ServiceOfferingNode]]:
        return self._loader("offerings_of_service")

    @cached_property
    def services_of_need(self) -> DataLoader[int, list[ServiceNode]]:
        return self._loader("services_of_need")

    @cached_property
    def offerings_of_need(self) -> DataLoader[int, list[ServiceOfferingNode]]:
        return self._loader("offerings_of_need")

    def close(self) -> None:
        """Forget every load: each loader's futures and its batch function (a closure
        over these loaders) form reference cycles only the collector would free."""
        for name, built in list(vars(self).items()):
            if isinstance(built, DataLoader):
                built.clear_all()
                del self.__dict__[name]
        self.round_results.clear()
        self.health_results.clear()

    def _loader(self, name: str) -> DataLoader[int, Any]:
        batch = batches.batch(name)

        async def load(keys: list[int]) -> Sequence[Any]:
            # One AsyncSession must never run two statements at once; sibling
            # fields resolve concurrently, so their batches take turns.
            async with self._lock:
                return await batch(
                    session=self._session, organisation_id=self._organisation_id, ids=keys
                )

        tracer = tracing.active()
        return DataLoader(load_fn=load if tracer is None
                          else tracing.traced_batch(tracer, name, load))
