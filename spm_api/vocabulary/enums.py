"""The portfolio's vocabulary, shared by models, domain and API."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a person of an organisation may do."""

    VIEWER = "VIEWER"
    CONTRIBUTOR = "CONTRIBUTOR"
    DECISION_MAKER = "DECISION_MAKER"
    PORTFOLIO_MANAGER = "PORTFOLIO_MANAGER"
    FINANCE = "FINANCE"
    ADMIN = "ADMIN"


class TokenStatus(StrEnum):
    """Whether an API token still authenticates, and if not, why."""

    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


class InvestmentCategory(StrEnum):
    """Run, grow or transform the business: used to prioritise investment."""

    RUN = "RUN"
    GROW = "GROW"
    TRANSFORM = "TRANSFORM"


class Necessity(StrEnum):
    """The analysis verdict on a requirement."""

    UNASSESSED = "UNASSESSED"
    NECESSARY = "NECESSARY"
    NOT_NECESSARY = "NOT_NECESSARY"


class Position(StrEnum):
    """A stakeholder's stance on a proposal."""

    SUPPORT = "SUPPORT"
    NEUTRAL = "NEUTRAL"
    CONCERN = "CONCERN"
    OPPOSE = "OPPOSE"


class CustomerKind(StrEnum):
    """Who consumes a service: a department of the organisation or an outside party."""

    INTERNAL_DEPARTMENT = "INTERNAL_DEPARTMENT"
    EXTERNAL = "EXTERNAL"


class Decision(StrEnum):
    """A decision maker's vote in an approval round."""

    APPROVE = "APPROVE"
    REJECT = "REJECT"
    ABSTAIN = "ABSTAIN"


class ApprovalStatus(StrEnum):
    """What an approval rule, or the round as a whole, concludes from the votes so far."""

    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    PENDING = "PENDING"


class Sourcing(StrEnum):
    """Who delivers a capability: the organisation's own people, or a contractor."""

    INTERNAL = "INTERNAL"
    CONTRACTOR = "CONTRACTOR"


class EngagementStatus(StrEnum):
    """Where an engagement request to a contractor stands.

    PENDING until delivered (retried with backoff), SENT once the contractor's system
    took it, ACCEPTED or DECLINED by the contractor, FAILED after the last attempt.
    Cancelled (the service cancelled or retiring): CANCELLING until the contractor's
    system took the cancellation (retried like the request), CANCELLED then, or at once
    when the request never left; CANCEL_FAILED after the cancellation's last attempt."""

    PENDING = "PENDING"
    SENT = "SENT"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    FAILED = "FAILED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    CANCEL_FAILED = "CANCEL_FAILED"


class AttemptKind(StrEnum):
    """What one delivery attempt to a contractor carried."""

    REQUEST = "REQUEST"
    CANCELLATION = "CANCELLATION"


class KpiDirection(StrEnum):
    """Which way a measure improves."""

    HIGHER_IS_BETTER = "HIGHER_IS_BETTER"
    LOWER_IS_BETTER = "LOWER_IS_BETTER"


class KpiKind(StrEnum):
    """Where a KPI's values come from: MEASURED values are recorded, imported or pulled
    from a source; the others are worked out each month from the finance tables."""

    MEASURED = "MEASURED"
    COST_PER_UNIT = "COST_PER_UNIT"
    COST_RECOVERY_RATE = "COST_RECOVERY_RATE"
    BUDGET_VARIANCE = "BUDGET_VARIANCE"
    ACTIVE_CUSTOMERS = "ACTIVE_CUSTOMERS"
    USAGE_VOLUME = "USAGE_VOLUME"


class Health(StrEnum):
    """How a live service, or one of its KPIs, stands against its targets."""

    HEALTHY = "HEALTHY"
    AT_RISK = "AT_RISK"
    FAILING = "FAILING"
    UNKNOWN = "UNKNOWN"


class ReviewState(StrEnum):
    """A portfolio review is OPEN for recommendations and votes until it is DECIDED."""

    OPEN = "OPEN"
    DECIDED = "DECIDED"


class Recommendation(StrEnum):
    """What a portfolio review recommends for one service (the TIME/Gartner verbs)."""

    RETAIN = "RETAIN"
    INVEST = "INVEST"
    REPLACE = "REPLACE"
    RATIONALISE = "RATIONALISE"
    REFACTOR = "REFACTOR"
    RETIRE = "RETIRE"


class ItemDecision(StrEnum):
    """Where a review's recommendation stands: PROPOSED until the review is decided."""

    PROPOSED = "PROPOSED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class StakeholderRole(StrEnum):
    """Why a person has a stake in a service: whom the report goes to, and why."""

    SPONSOR = "SPONSOR"
    USER_REPRESENTATIVE = "USER_REPRESENTATIVE"
    OPERATIONS = "OPERATIONS"
    FINANCE = "FINANCE"


#: What each stakeholder role means, for people reading the API or a report.
STAKEHOLDER_ROLE_MEANINGS: dict[StakeholderRole, str] = {
    StakeholderRole.SPONSOR: "pays for the service and answers for its business case",
    StakeholderRole.USER_REPRESENTATIVE: "speaks for the people who use the service",
    StakeholderRole.OPERATIONS: "runs and supports the service once it is live",
    StakeholderRole.FINANCE: "watches the service's budget, spend and charging",
}


class Verdict(StrEnum):
    """A stakeholder's word on the deliverable: affirmed, or disputed with a reason."""

    AFFIRMED = "AFFIRMED"
    DISPUTED = "DISPUTED"


#: What each verdict means.
VERDICT_MEANINGS: dict[Verdict, str] = {
    Verdict.AFFIRMED: "the deliverable meets the charter, deviations known",
    Verdict.DISPUTED: "the deliverable does not meet the charter; blocks going LIVE "
                      "until resolved",
}


class RiskStatus(StrEnum):
    """Where a risk of a service stands. Every status but CLOSED counts in its exposure."""

    OPEN = "OPEN"
    MITIGATED = "MITIGATED"
    ACCEPTED = "ACCEPTED"
    CLOSED = "CLOSED"


#: What each risk status means.
RISK_STATUS_MEANINGS: dict[RiskStatus, str] = {
    RiskStatus.OPEN: "identified, mitigation not yet in place",
    RiskStatus.MITIGATED: "mitigation in place; likelihood and impact as they stand after it",
    RiskStatus.ACCEPTED: "kept knowingly, without (further) mitigation",
    RiskStatus.CLOSED: "no longer a risk; kept for the record, counts in no exposure",
}
