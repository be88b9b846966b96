"""Domain enums exposed to GraphQL unchanged: no mapping code between the layers.

``strawberry.enum`` registers each class in place, so the names exported here
are the domain classes themselves.
"""

from __future__ import annotations

import strawberry

from spm_api.domain.finance.reports import Dimension as ReportDimension
from spm_api.domain.reads import ServiceOrderField, SortDirection
from spm_api.vocabulary.enums import (
    RISK_STATUS_MEANINGS,
    STAKEHOLDER_ROLE_MEANINGS,
    VERDICT_MEANINGS,
    ApprovalStatus,
    AttemptKind,
    CustomerKind,
    Decision,
    EngagementStatus,
    Health,
    InvestmentCategory,
    ItemDecision,
    KpiDirection,
    KpiKind,
    Necessity,
    Position,
    Recommendation,
    ReviewState,
    RiskStatus,
    Role,
    Sourcing,
    StakeholderRole,
    TokenStatus,
    Verdict,
)
from spm_api.vocabulary.errors import ErrorCode
from spm_api.vocabulary.stages import Section, Stage

strawberry.enum(Stage, description="Lifecycle stage of a service.")
strawberry.enum(
    Section,
    description="Portfolio section, derived from the stage: PIPELINE up to CHARTERED, "
    "CATALOGUE for LIVE and RETIRING, RETIRED for RETIRED, TERMINATED for what ended "
    "before going live (REJECTED, WITHDRAWN, CANCELLED).",
)
strawberry.enum(Role, description="What a person may do in their organisation.")
strawberry.enum(InvestmentCategory, description="Run, grow or transform the business.")
strawberry.enum(Necessity, description="The analysis verdict on a requirement.")
strawberry.enum(Position, description="A stakeholder's stance on a proposal.")
strawberry.enum(Decision, description="A decision maker's vote.")
strawberry.enum(ApprovalStatus, description="What the approval rules conclude.")
strawberry.enum(ServiceOrderField)
strawberry.enum(CustomerKind)
strawberry.enum(Sourcing)
strawberry.enum(EngagementStatus)
strawberry.enum(AttemptKind, name="EngagementAttemptKind")
strawberry.enum(KpiDirection, description="Which way a KPI improves.")
strawberry.enum(KpiKind, description="Where a KPI's values come from.")
strawberry.enum(Health, description="How a live service, or one KPI, stands against its "
                                    "targets.")
strawberry.enum(ReviewState, description="A portfolio review is OPEN for recommendations "
                                         "and votes until it is DECIDED, then frozen.")
strawberry.enum(Recommendation, description="What a portfolio review recommends for a "
                                            "service: RETAIN it as it is, INVEST in it, "
                                            "REPLACE it by a successor, RATIONALISE it "
                                            "into another service, REFACTOR it, or "
                                            "RETIRE it.")
strawberry.enum(ItemDecision, description="Where a recommendation stands: PROPOSED until "
                                          "the review is decided, then APPROVED or "
                                          "REJECTED by the approval rules.")
strawberry.enum(StakeholderRole, description="Why a person has a stake in a service.")
for _value in StakeholderRole.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = STAKEHOLDER_ROLE_MEANINGS[StakeholderRole(_value.value)]
strawberry.enum(Verdict, description="A stakeholder's word on the deliverable.")
for _value in Verdict.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = VERDICT_MEANINGS[Verdict(_value.value)]
strawberry.enum(RiskStatus, description="Where a risk stands; every status but CLOSED "
                                        "counts in the exposure.")
for _value in RiskStatus.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = RISK_STATUS_MEANINGS[RiskStatus(_value.value)]
strawberry.enum(TokenStatus, description="Whether an API token authenticates: ACTIVE, or "
                                         "refused because it EXPIRED or was REVOKED.")
strawberry.enum(ReportDimension, name="ReportDimension")
strawberry.enum(SortDirection)
strawberry.enum(ErrorCode, name="UserErrorCode", description="Why a mutation was refused.")
UserErrorCode = ErrorCode

__all__ = [
    "ApprovalStatus",
    "AttemptKind",
    "CustomerKind",
    "Decision",
    "EngagementStatus",
    "Health",
    "InvestmentCategory",
    "ItemDecision",
    "KpiDirection",
    "KpiKind",
    "Necessity",
    "Position",
    "Recommendation",
    "ReportDimension",
    "ReviewState",
    "RiskStatus",
    "Role",
    "Section",
    "ServiceOrderField",
    "SortDirection",
    "Sourcing",
    "Stage",
    "StakeholderRole",
    "TokenStatus",
    "UserErrorCode",
    "Verdict",
]
