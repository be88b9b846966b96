"""Build the schema: types, root fields, limits and extensions in one place."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig

from spm_api.graphql.execution import ExecutionContext
from spm_api.graphql.extensions import CloseSession, MaskUnexpectedErrors
from spm_api.graphql.finance_types import (
    BudgetLineNode,
    CostEntryNode,
    CustomerNode,
    StatementNode,
)
from spm_api.graphql.mutations import Mutation
from spm_api.graphql.queries import Query
from spm_api.graphql.sourcing_types import CapabilityNode, ContractorNode, EngagementNode
from spm_api.graphql.subscriptions import Subscription
from spm_api.graphql.types import (
    OrganisationNode,
    PersonNode,
    RequirementNode,
    ServiceNode,
    StageChangeNode,
    StakeholderInputNode,
)
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


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or get_settings()
    extensions: list[object] = [
        CloseSession,
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=30),
        lambda: MaxTokensLimiter(max_token_count=5000),
    ]
    if not settings.debug:
        extensions.append(MaskUnexpectedErrors)
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
