"""SQLAlchemy models. Importing this package registers every table on ``Base.metadata``."""

from spm_api.models.approval import (
    Affirmation,
    ApprovalRound,
    ApprovalRuleChoice,
    Baseline,
    PluginSettings,
    Vote,
)
from spm_api.models.audit import AuditEvent
from spm_api.models.finance import (
    BudgetLine,
    ChargeAdjustment,
    ChargingPolicy,
    ClosedPeriod,
    CostCategory,
    CostEntry,
    Statement,
    StatementLine,
    UsageRecord,
)
from spm_api.models.market import (
    Customer,
    CustomerNeed,
    MarketSegment,
    MarketSpace,
    NeedLink,
    OfferingService,
    ServiceLevel,
    ServiceOffering,
    Subscription,
)
from spm_api.models.portfolio import Requirement, Service, StageChange, StakeholderInput
from spm_api.models.reporting import Stakeholder, StakeholderReport
from spm_api.models.review import PortfolioReview, ReviewItem, ReviewVote
from spm_api.models.sourcing import (
    Capability,
    Contractor,
    Engagement,
    EngagementAttempt,
    Quote,
)
from spm_api.models.stewardship import Kpi, Measurement
from spm_api.models.strategy import (
    BusinessCaseYear,
    RealisedBenefit,
    Risk,
    ServiceAlignment,
    StrategicObjective,
    StrategySettings,
)
from spm_api.models.tenancy import ApiToken, Organisation, Person, PersonRole

__all__ = [
    "Affirmation",
    "ApiToken",
    "ApprovalRound",
    "ApprovalRuleChoice",
    "AuditEvent",
    "Baseline",
    "BudgetLine",
    "BusinessCaseYear",
    "Capability",
    "ChargeAdjustment",
    "ChargingPolicy",
    "ClosedPeriod",
    "Contractor",
    "CostCategory",
    "CostEntry",
    "Customer",
    "CustomerNeed",
    "Engagement",
    "EngagementAttempt",
    "Kpi",
    "MarketSegment",
    "MarketSpace",
    "Measurement",
    "NeedLink",
    "OfferingService",
    "Organisation",
    "Person",
    "PersonRole",
    "PluginSettings",
    "PortfolioReview",
    "Quote",
    "RealisedBenefit",
    "Requirement",
    "ReviewItem",
    "ReviewVote",
    "Risk",
    "Service",
    "ServiceAlignment",
    "ServiceLevel",
    "ServiceOffering",
    "StageChange",
    "Stakeholder",
    "StakeholderInput",
    "StakeholderReport",
    "Statement",
    "StatementLine",
    "StrategicObjective",
    "StrategySettings",
    "Subscription",
    "UsageRecord",
    "Vote",
]
