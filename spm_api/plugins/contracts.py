"""What plugins receive and return. Everything here is plain, frozen data: a plugin
never sees a database session, so it cannot write half a change or leak a tenant."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from spm_api.domain.enums import ApprovalStatus, Decision, InvestmentCategory, Role
from spm_api.domain.stages import Stage

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
    """What a rule may know about the proposal being decided."""

    id: int
    organisation_id: int
    name: str
    investment_category: InvestmentCategory
    estimated_cost: Decimal | None


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
    """What a charging model prices: one service, one period, its cost and its usage."""

    service_id: int
    period: str
    currency: str
    actual_cost: Decimal
    usage: tuple[ChargeableUsage, ...]
    customer_ids: tuple[int, ...]


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


# --- contractor integrations -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class EngagementRequest:
    """Asking a contractor to deliver a capability. ``idempotency_key`` is the same on
    every attempt, so a contractor system can ignore a repeat."""

    idempotency_key: str
    organisation_id: int
    service_id: int
    service_name: str
    capability: str
    description: str
    contractor_settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContractorIntegration:
    """A named way of reaching a contractor's systems. Its calls happen outside any
    database transaction: after the commit, from the delivery worker.

    ``send_engagement(request)`` returns the contractor's reference and whether the
    engagement is already accepted; ``request_quote(request)`` returns a quote. Both
    may be coroutine functions; raising means "try again later".
    """

    name: str
    title: str
    description: str
    send_engagement: Callable[[EngagementRequest], Any]
    request_quote: Callable[[EngagementRequest], Any] | None = None
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
