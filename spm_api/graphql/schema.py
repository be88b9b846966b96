"""Build the schema: types, root fields, limits and extensions in one place."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from spm_api.graphql.access.mutations import AccessMutation
from spm_api.graphql.access.queries import AccessQuery
from spm_api.graphql.access.types import ApiTokenNode
from spm_api.graphql.approvals.mutations import ApprovalsMutation
from spm_api.graphql.approvals.queries import ApprovalsQuery
from spm_api.graphql.approvals.subscriptions import ApprovalsSubscription
from spm_api.graphql.audit.queries import AuditQuery
from spm_api.graphql.core.documents import CheckedDocuments, document_checks
from spm_api.graphql.core.execution import ExecutionContext
from spm_api.graphql.core.extensions import (
    CloseSession,
    CodeDomainErrors,
    MaskUnexpectedErrors,
    NoteOperation,
    ReadReplica,
)
from spm_api.graphql.finance.mutations import FinanceMutation
from spm_api.graphql.finance.queries import FinanceQuery
from spm_api.graphql.finance.subscriptions import FinanceSubscription
from spm_api.graphql.finance.types import (
    BudgetLineNode,
    CostEntryNode,
    CustomerNode,
    StatementNode,
)
from spm_api.graphql.market.mutations import MarketMutation
from spm_api.graphql.market.queries import MarketQuery
from spm_api.graphql.market.types import (
    CustomerNeedNode,
    CustomerSubscriptionNode,
    MarketSegmentNode,
    MarketSpaceNode,
    ServiceOfferingNode,
)
from spm_api.graphql.organisation.mutations import OrganisationMutation
from spm_api.graphql.organisation.queries import OrganisationQuery
from spm_api.graphql.portfolio.mutations import PortfolioMutation
from spm_api.graphql.portfolio.queries import PortfolioQuery
from spm_api.graphql.portfolio.subscriptions import PortfolioSubscription
from spm_api.graphql.portfolio.types import (
    OrganisationNode,
    PersonNode,
    RequirementNode,
    ServiceNode,
    StageChangeNode,
    StakeholderInputNode,
)
from spm_api.graphql.reporting.mutations import ReportingMutation
from spm_api.graphql.reporting.queries import ReportingQuery
from spm_api.graphql.reporting.subscriptions import ReportingSubscription
from spm_api.graphql.reporting.types import StakeholderNode, StakeholderReportNode
from spm_api.graphql.reports.queries import ReportsQuery
from spm_api.graphql.reviews.mutations import ReviewsMutation
from spm_api.graphql.reviews.queries import ReviewsQuery
from spm_api.graphql.sourcing.mutations import SourcingMutation
from spm_api.graphql.sourcing.queries import SourcingQuery
from spm_api.graphql.sourcing.types import CapabilityNode, ContractorNode, EngagementNode
from spm_api.graphql.stewardship.mutations import StewardshipMutation
from spm_api.graphql.stewardship.subscriptions import StewardshipSubscription
from spm_api.graphql.stewardship.types import KpiNode
from spm_api.graphql.strategy.mutations import StrategyMutation
from spm_api.graphql.strategy.queries import StrategyQuery
from spm_api.graphql.strategy.types import RiskNode, StrategicObjectiveNode
from spm_api.settings import Settings, get_settings

NODE_TYPES = [
    ContractorNode,
    CapabilityNode,
    EngagementNode,
    CustomerNode,
    BudgetLineNode,
    CostEntryNode,
    StatementNode,
    OrganisationNode,
    PersonNode,
    ServiceNode,
    RequirementNode,
    StakeholderInputNode,
    StageChangeNode,
    KpiNode,
    StakeholderNode,
    StakeholderReportNode,
    RiskNode,
    StrategicObjectiveNode,
    ApiTokenNode,
    MarketSpaceNode,
    MarketSegmentNode,
    CustomerNeedNode,
    ServiceOfferingNode,
    CustomerSubscriptionNode,
]


# The root types are composed from each capability's parts; Strawberry lists the fields
# base by base, in the order the bases are written.


@strawberry.type
class Query(FinanceQuery, ReportsQuery, SourcingQuery, PortfolioQuery, ApprovalsQuery,
            ReviewsQuery, ReportingQuery, StrategyQuery, OrganisationQuery, AccessQuery,
            MarketQuery, AuditQuery):
    """Every capability's root query fields."""


@strawberry.type
class Mutation(FinanceMutation, SourcingMutation, PortfolioMutation, ApprovalsMutation,
               OrganisationMutation, StewardshipMutation, ReviewsMutation,
               ReportingMutation, StrategyMutation, AccessMutation, MarketMutation):
    """Every capability's root mutation fields."""


@strawberry.type
class Subscription(PortfolioSubscription, ApprovalsSubscription, FinanceSubscription,
                   StewardshipSubscription, ReportingSubscription):
    """Every capability's live events."""


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or get_settings()
    checks = document_checks(settings)
    extensions: list[object] = [
        NoteOperation,  # first: it sees the answer as the client will
        CloseSession,
        # Each document parsed and validated once, with the limits (depth, cost, aliases,
        # tokens, who may introspect), in caches the planned read path shares.
        lambda: CheckedDocuments(checks),
    ]
    if settings.database_replica_url:
        extensions.append(ReadReplica)
    if not settings.debug:
        extensions.append(MaskUnexpectedErrors)
    # Last, so that it sees the errors first: a domain refusal is coded, not masked.
    extensions.append(CodeDomainErrors)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        extensions=extensions,  # type: ignore[arg-type]
        config=StrawberryConfig(relay_max_results=settings.max_page_size),
        execution_context_class=ExecutionContext,
    )


def schema_sdl() -> str:
    """The schema as SDL, exactly as committed in ``schema.graphql``."""
    return build_schema(get_settings()).as_str() + "\n"
