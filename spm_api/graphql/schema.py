"""Build the schema: types, root fields, limits and extensions in one place."""

from __future__ import annotations

import strawberry
from graphql import ASTValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from spm_api.graphql.approvals.mutations import ApprovalsMutation
from spm_api.graphql.approvals.queries import ApprovalsQuery
from spm_api.graphql.approvals.subscriptions import ApprovalsSubscription
from spm_api.graphql.core.execution import ExecutionContext
from spm_api.graphql.core.extensions import (
    CloseSession,
    CodeDomainErrors,
    MaskUnexpectedErrors,
    introspection_policy,
)
from spm_api.graphql.core.limits import alias_limit, cost_limit, depth_limit
from spm_api.graphql.finance.mutations import FinanceMutation
from spm_api.graphql.finance.queries import FinanceQuery
from spm_api.graphql.finance.subscriptions import FinanceSubscription
from spm_api.graphql.finance.types import (
    BudgetLineNode,
    CostEntryNode,
    CustomerNode,
    StatementNode,
)
from spm_api.graphql.organisation.mutations import OrganisationMutation
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
from spm_api.graphql.reports.queries import ReportsQuery
from spm_api.graphql.sourcing.mutations import SourcingMutation
from spm_api.graphql.sourcing.queries import SourcingQuery
from spm_api.graphql.sourcing.types import CapabilityNode, ContractorNode, EngagementNode
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
]


# The root types are composed from each capability's parts; Strawberry lists the fields
# base by base, in the order the bases are written.


@strawberry.type
class Query(FinanceQuery, ReportsQuery, SourcingQuery, PortfolioQuery, ApprovalsQuery):
    """Every capability's root query fields."""


@strawberry.type
class Mutation(FinanceMutation, SourcingMutation, PortfolioMutation, ApprovalsMutation,
               OrganisationMutation):
    """Every capability's root mutation fields."""


@strawberry.type
class Subscription(PortfolioSubscription, ApprovalsSubscription, FinanceSubscription):
    """Every capability's live events."""


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or get_settings()
    # The limit rules are classes built once, here: the validation cache is keyed on
    # them, so a rule class made per request would never hit it.
    limits: list[type[ASTValidationRule]] = [
        depth_limit(settings.max_query_depth, settings.max_introspection_depth),
        cost_limit(settings.max_query_cost, settings.max_page_size, settings.cost_list_size),
        alias_limit(settings.max_aliases),
    ]
    extensions: list[object] = [
        CloseSession,
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: AddValidationRules(limits),
        introspection_policy(settings.introspection),
        # Parsing and validating a document once, not per request (bounded caches keyed
        # by the query text and, for validation, the rules).
        lambda: ParserCache(maxsize=settings.document_cache_size),
        lambda: ValidationCache(maxsize=settings.document_cache_size),
    ]
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
