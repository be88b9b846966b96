"""What plugins receive and return. Everything here is plain, frozen data: a plugin
never sees a database session, so it cannot write half a change or leak a tenant."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from spm_api.vocabulary.enums import ApprovalStatus, Decision, InvestmentCategory, Role
from spm_api.vocabulary.money import allocate, rounded
from spm_api.vocabulary.stages import Stage

Settings = Mapping[str, Any]


class PluginSettingsError(ValueError):
    """Raised by a plugin's ``validate_settings`` to refuse settings, with words for the
    admin who sent them."""


# --- approval rules ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Voter:
    """A decision maker of the organisation and every role they hold."""

    person_id: int
    name: str
    roles: frozenset[Role]


@dataclass(frozen=True, slots=True)
class CastVote:
    """A voter's current vote in the round (the latest they cast)."""

    voter: Voter
    decision: Decision
    comment: str
    cast_at: datetime


@dataclass(frozen=True, slots=True)
class ServiceFacts:
    """What a rule or a scoring model may know about a proposal. Amounts are in
    ``currency``, the organisation's.

    ``first_fiscal_year`` is the fiscal year of the service's earliest budget line (None
    without a budget) and ``first_year_budget`` the budget of that year's twelve months.
    """

    id: int
    organisation_id: int
    name: str
    investment_category: InvestmentCategory
    estimated_cost: Decimal | None
    currency: str = "EUR"
    expected_benefit: Decimal | None = None
    first_fiscal_year: int | None = None
    first_year_budget: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Ballot:
    """The state of one approval round: who may vote, and how they voted so far.

    ``votes`` holds one current vote per decision maker who has voted; votes of people
    who are no longer decision makers do not count and are left out.
    """

    service: ServiceFacts
    decision_makers: tuple[Voter, ...]
    votes: tuple[CastVote, ...]

    def count(self, decision: Decision) -> int:
        return sum(1 for vote in self.votes if vote.decision is decision)

    def votes_of_role(self, role: Role) -> tuple[CastVote, ...]:
        return tuple(vote for vote in self.votes if role in vote.voter.roles)

    def holders_of(self, role: Role) -> tuple[Voter, ...]:
        return tuple(voter for voter in self.decision_makers if role in voter.roles)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A rule's conclusion and, for the people reading it, why."""

    status: ApprovalStatus
    explanation: str


Evaluate = Callable[[Ballot, Settings], "Verdict | Awaitable[Verdict]"]
ValidateSettings = Callable[[Settings], None]


def accept_any_settings(_settings: Settings) -> None:
    """The default ``validate_settings``: the rule reads no settings."""


@dataclass(frozen=True, slots=True)
class ApprovalRule:
    """A named way of turning a ballot into a verdict.

    ``evaluate(ballot, settings)`` gets the ballot and the organisation's settings for
    the plugin that registered the rule; it may be a coroutine function. It must be a
    pure function of its arguments: it is called whenever the round is read, on every
    vote and when the service is chartered.
    """

    name: str
    title: str
    description: str
    evaluate: Evaluate
    validate_settings: ValidateSettings = accept_any_settings


# --- charging models -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChargeableUsage:
    """How much of a service one customer consumed in the period being charged."""

    customer_id: int
    quantity: Decimal
    unit: str


@dataclass(frozen=True, slots=True)
class ChargingPeriod:
    """What a charging model prices: one service in one month (``2026-11``), the actual
    cost booked against it and what each customer consumed.

    ``usage`` holds one entry per customer and unit, summed over the month; customers
    without usage are not charged. Charges must be in the currency's minor unit: use
    ``round`` for one amount and ``share`` to split a total so the parts add up exactly.
    """

    service_id: int
    service_name: str
    period: str
    currency: str
    actual_cost: Decimal
    usage: tuple[ChargeableUsage, ...]

    @property
    def customer_ids(self) -> tuple[int, ...]:
        """The customers who used the service in the period, in a stable order."""
        return tuple(sorted({usage.customer_id for usage in self.usage}))

    def quantity_of(self, customer_id: int, unit: str | None = None) -> Decimal:
        """What a customer consumed, in ``unit`` only when one is given."""
        return sum((usage.quantity for usage in self.usage
                    if usage.customer_id == customer_id
                    and (unit is None or usage.unit == unit)), Decimal(0))

    def round(self, amount: Decimal) -> Decimal:
        """``amount`` rounded half-up to the currency's minor unit."""
        return rounded(amount, self.currency)

    def share(self, total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
        """Split ``total`` in proportion to ``weights``, in minor units, the rounding
        remainder going to the largest fractions so the shares add up to ``total``."""
        return allocate(total, weights, self.currency)


@dataclass(frozen=True, slots=True)
class Charge:
    """One line of a statement: what one customer owes for the service in the period."""

    customer_id: int
    amount: Decimal
    description: str


@dataclass(frozen=True, slots=True)
class ChargingModel:
    """A named way of turning a service's cost and usage into charges.

    ``validate_parameters(parameters)`` raises ``PluginSettingsError`` for parameters
    the model cannot use and returns them normalised; ``charge(period, parameters,
    settings)`` returns the charges (it may be a coroutine function). ``billed`` is
    False for notional models (showback): their charges are reported, never invoiced.
    """

    name: str
    title: str
    description: str
    validate_parameters: Callable[[Settings], Settings]
    charge: Callable[[ChargingPeriod, Settings, Settings],
                     Sequence[Charge] | Awaitable[Sequence[Charge]]]
    billed: bool = True
    validate_settings: ValidateSettings = accept_any_settings


# --- scoring ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Support:
    """How the stakeholders stand on a proposal: the count of inputs per position."""

    support: int = 0
    neutral: int = 0
    concern: int = 0
    oppose: int = 0

    @property
    def total(self) -> int:
        return self.support + self.neutral + self.concern + self.oppose


@dataclass(frozen=True, slots=True)
class Score:
    """A scoring model's number for one service (higher ranks first) and why."""

    value: Decimal
    explanation: str


@dataclass(frozen=True, slots=True)
class ScoringModel:
    """A named way of ranking pipeline services for investment.

    ``score(service, support, settings)`` returns a ``Score``; it may be a coroutine
    function and must be a pure function of its arguments.
    """

    name: str
    title: str
    description: str
    score: Callable[[ServiceFacts, Support, Settings], Score | Awaitable[Score]]
    validate_settings: ValidateSettings = accept_any_settings


# --- contractor integrations -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class EngagementRequest:
    """Asking a contractor to deliver a capability of a chartered service.
    ``idempotency_key`` is the same on every attempt, so a contractor system can ignore
    a repeat; ``contractor_settings`` are the registry's settings for this contractor."""

    idempotency_key: str
    organisation_id: int
    service_id: int
    service_name: str
    capability: str
    description: str
    contractor_settings: Mapping[str, Any] = field(default_factory=dict)
    estimated_cost: Decimal | None = None
    currency: str = "EUR"


@dataclass(frozen=True, slots=True)
class EngagementReceipt:
    """A contractor system's answer to an engagement request: its reference and its
    decision — ``"RECEIVED"`` (deciding later), ``"ACCEPTED"`` or ``"DECLINED"``."""

    reference: str
    decision: str = "RECEIVED"


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """Asking a contractor for a price for a capability during analysis."""

    organisation_id: int
    service_id: int
    service_name: str
    capability: str
    description: str
    currency: str
    contractor_settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QuoteOffer:
    """A contractor's price, in ``QuoteRequest.currency``, and until when it holds."""

    amount: Decimal
    reference: str = ""
    valid_until: date | None = None


@dataclass(frozen=True, slots=True)
class ContractorIntegration:
    """A named way of reaching contractors' systems. Its calls never happen inside a
    database transaction.

    ``send_engagement(request)`` is called by the outbox worker after the chartering
    transaction has committed and returns an ``EngagementReceipt``; raising (or timing
    out) means "try again later" with the same idempotency key. ``request_quote(request)``
    returns a ``QuoteOffer``. Both may be coroutine functions. ``validate_settings``
    checks a contractor's settings when it is registered.
    """

    name: str
    title: str
    description: str
    send_engagement: Callable[[EngagementRequest], Any]
    request_quote: Callable[[QuoteRequest], Any] | None = None
    validate_settings: ValidateSettings = accept_any_settings


# --- events ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StageChanged:
    """A service moved stage. Delivered only after the change has been committed."""

    change_id: int
    organisation_id: int
    service_id: int
    service_name: str
    from_stage: Stage | None
    to_stage: Stage
    actor_id: int
    reason: str
    at: datetime
