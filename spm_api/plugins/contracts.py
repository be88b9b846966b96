"""What plugins receive and return. Everything here is plain, frozen data: a plugin
never sees a database session, so it cannot write half a change or leak a tenant.

Beside each family's data: its ``Family`` (the hook and what it registers), the
``Method`` and ``Validator`` objects the core calls through the host, and the check of
each answer, so a family's whole contract reads in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from spm_api.plugins.family import Family, Method, Observer, Validator
from spm_api.vocabulary.enums import (
    ApprovalStatus,
    Decision,
    Health,
    InvestmentCategory,
    KpiDirection,
    KpiKind,
    Role,
)
from spm_api.vocabulary.money import LARGEST, allocate, rounded
from spm_api.vocabulary.stages import Stage

Settings = Mapping[str, Any]

#: The largest quote or charge stored (the scaled 64-bit amount columns' range).
MAX_AMOUNT = LARGEST


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
class CaseYear:
    """One fiscal year of a proposal's business case, and the service's budget for it."""

    fiscal_year: int
    investment: Decimal
    running_cost: Decimal
    benefit: Decimal
    #: The budget lines of the year's twelve months, added up.
    budget: Decimal = Decimal(0)

    @property
    def cost(self) -> Decimal:
        """What the case spends in the year: investment and running cost."""
        return self.investment + self.running_cost


@dataclass(frozen=True, slots=True)
class ServiceFacts:
    """What a rule or a scoring model may know about a proposal. Amounts are in
    ``currency``, the organisation's.

    ``first_fiscal_year`` is the fiscal year of the service's earliest budget line (None
    without a budget) and ``first_year_budget`` the budget of that year's twelve months.
    With a multi-year business case, ``estimated_cost`` is its total cost of ownership,
    ``expected_benefit`` its total benefit, ``case`` its years (oldest first, each with
    the year's budget) and ``npv`` its net present value at the organisation's discount
    rate; without one, ``case`` is empty and ``npv`` None.

    Scoring models also get the strategy: ``risk_exposure`` adds up likelihood x impact
    of the service's risks that are not CLOSED (``open_risks`` of them, the largest
    ``highest_risk_exposure``, at most 25), ``alignment`` adds up the weights it is
    aligned to strategic objectives with (``objectives`` names them). Approval rules see
    these as zero and empty.
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
    case: tuple[CaseYear, ...] = ()
    npv: Decimal | None = None
    risk_exposure: int = 0
    open_risks: int = 0
    highest_risk_exposure: int = 0
    alignment: Decimal = Decimal(0)
    objectives: tuple[str, ...] = ()


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
    vote and when the service is chartered. ``default``: the rule of an organisation that
    has chosen none (exactly one rule is).
    """

    name: str
    title: str
    description: str
    evaluate: Evaluate
    validate_settings: ValidateSettings = accept_any_settings
    default: bool = False


def _verdict_problem(verdict: object, *_args: object) -> str | None:
    if (isinstance(verdict, Verdict) and isinstance(verdict.status, ApprovalStatus)
            and isinstance(verdict.explanation, str)):
        return None
    return f"returned {verdict!r} instead of a Verdict"


def _evaluating(rule: str, *_args: object) -> str:
    return f"evaluating approval rule {rule!r}"


APPROVAL_RULES = Family("spm_approval_rules", ApprovalRule, "approval rule", "approval rules",
                        "rules", needs_default=True)
#: ``rule.evaluate(ballot, settings) -> Verdict``
EVALUATE: Method[Verdict] = Method(APPROVAL_RULES, "evaluate", _evaluating, _verdict_problem)


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
    ``default``: the model a service without a charging policy stands for; its services
    are cost centres, never charged (exactly one model is the default).
    """

    name: str
    title: str
    description: str
    validate_parameters: Callable[[Settings], Settings]
    charge: Callable[[ChargingPeriod, Settings, Settings],
                     Sequence[Charge] | Awaitable[Sequence[Charge]]]
    billed: bool = True
    validate_settings: ValidateSettings = accept_any_settings
    default: bool = False


def _charges_problem(result: object, period: ChargingPeriod, *_args: object) -> str | None:
    """What is wrong with a model's charges: each line for a customer who used the
    service, one line each, an amount the books hold in the currency's minor unit."""
    if not isinstance(result, (list, tuple)):
        return f"returned {result!r} instead of a list of Charge"
    customers = set(period.customer_ids)
    seen: set[int] = set()
    for charge in result:
        if not (isinstance(charge, Charge) and isinstance(charge.amount, Decimal)
                and charge.amount.is_finite() and isinstance(charge.description, str)):
            return f"returned {charge!r} instead of a Charge"
        if charge.customer_id not in customers:
            return f"charged customer {charge.customer_id}, who did not use the service"
        if charge.customer_id in seen:
            return f"charged customer {charge.customer_id} twice"
        seen.add(charge.customer_id)
        if abs(charge.amount) > MAX_AMOUNT:
            return f"charged {charge.amount}, more than the books can hold ({MAX_AMOUNT})"
        if charge.amount != period.round(charge.amount):
            return (f"charged {charge.amount}, which is not in {period.currency}'s "
                    f"minor unit")
    return None


def _charging(model: str, period: ChargingPeriod, *_args: object) -> str:
    return f"charging {period.service_name!r} for {period.period} with {model!r}"


def _parameters_problem(result: object, *_args: object) -> str | None:
    return None if isinstance(result, Mapping) else f"returned {result!r} instead of the parameters"


CHARGING_MODELS = Family("spm_charging_models", ChargingModel, "charging model",
                         "charging models", "model", needs_default=True)
#: ``model.charge(period, parameters, settings) -> Sequence[Charge]``
CHARGE: Method[Sequence[Charge]] = Method(CHARGING_MODELS, "charge", _charging, _charges_problem)
#: ``model.validate_parameters(parameters) -> Settings``, the parameters normalised
VALIDATE_PARAMETERS: Validator[Settings] = Validator(
    CHARGING_MODELS, "validate_parameters", "validating parameters of {item!r}",
    "charging model {item!r}", "parameters", _parameters_problem)


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
class Factor:
    """One part of a score: its name, its value between 0 and 1, its weight, what it
    added to the score and why."""

    name: str
    part: Decimal
    weight: Decimal
    contribution: Decimal
    explanation: str


@dataclass(frozen=True, slots=True)
class Score:
    """A scoring model's number for one service (higher ranks first) and why; a model
    may break it down into ``factors``, shown with the ranking."""

    value: Decimal
    explanation: str
    factors: tuple[Factor, ...] = ()


@dataclass(frozen=True, slots=True)
class ScoringModel:
    """A named way of ranking pipeline services for investment.

    ``score(service, support, settings)`` returns a ``Score``; it may be a coroutine
    function and must be a pure function of its arguments. ``default``: the model the
    ranking uses when none is asked for (exactly one model is).
    """

    name: str
    title: str
    description: str
    score: Callable[[ServiceFacts, Support, Settings], Score | Awaitable[Score]]
    validate_settings: ValidateSettings = accept_any_settings
    default: bool = False


def _score_problem(result: object, *_args: object) -> str | None:
    if not (isinstance(result, Score) and isinstance(result.value, Decimal)
            and result.value.is_finite() and isinstance(result.explanation, str)):
        return f"returned {result!r} instead of a Score"
    for factor in result.factors:
        if not (isinstance(factor, Factor) and isinstance(factor.name, str)
                and isinstance(factor.explanation, str)
                and all(isinstance(number, Decimal) and number.is_finite()
                        for number in (factor.part, factor.weight, factor.contribution))):
            return f"returned the factor {factor!r}, not a Factor of finite decimals"
    return None


def _scoring(model: str, service: ServiceFacts, *_args: object) -> str:
    return f"scoring {service.name!r} with {model!r}"


SCORING_MODELS = Family("spm_scoring_models", ScoringModel, "scoring model", "scoring models",
                        "scoringModel", needs_default=True)
#: ``model.score(service, support, settings) -> Score``
SCORE: Method[Score] = Method(SCORING_MODELS, "score", _scoring, _score_problem)


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
class CancellationRequest:
    """Telling a contractor that an engagement it was sent is off: the service was
    cancelled before going live, or is being retired. ``idempotency_key`` is the
    engagement request's own key, the same on every attempt, so a contractor system
    finds the engagement by it and can ignore a repeated cancellation;
    ``contractor_reference`` is the contractor's reference when it answered one."""

    idempotency_key: str
    organisation_id: int
    service_id: int
    service_name: str
    capability: str
    reason: str
    contractor_reference: str | None = None
    contractor_settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CancellationReceipt:
    """A contractor system's acknowledgement of a cancellation, with its reference."""

    reference: str = ""


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
    returns a ``QuoteOffer``. ``cancel_engagement(request)`` is called by the same worker
    after a cancellation commits, with a ``CancellationRequest``, and returns a
    ``CancellationReceipt``; raising means "try again later". An integration without it
    cannot tell contractors: its engagements are marked CANCELLED with an attempt saying
    NOT_SUPPORTED, and the portfolio manager tells the contractor. All may be coroutine
    functions. ``validate_settings`` checks a contractor's settings when it is
    registered.
    """

    name: str
    title: str
    description: str
    send_engagement: Callable[[EngagementRequest], Any]
    request_quote: Callable[[QuoteRequest], Any] | None = None
    validate_settings: ValidateSettings = accept_any_settings
    cancel_engagement: Callable[[CancellationRequest], Any] | None = None


#: What a contractor system may answer to an engagement request.
RECEIPT_DECISIONS = frozenset({"RECEIVED", "ACCEPTED", "DECLINED"})


def _receipt_problem(receipt: object, *_args: object) -> str | None:
    if (isinstance(receipt, EngagementReceipt) and isinstance(receipt.reference, str)
            and receipt.decision in RECEIPT_DECISIONS):
        return None
    return f"returned {receipt!r} instead of an EngagementReceipt"


def _sending(integration: str, request: EngagementRequest, *_args: object) -> str:
    return f"sending engagement {request.idempotency_key} through {integration!r}"


def _cancellation_problem(receipt: object, *_args: object) -> str | None:
    if isinstance(receipt, CancellationReceipt) and isinstance(receipt.reference, str):
        return None
    return f"returned {receipt!r} instead of a CancellationReceipt"


def _cancelling(integration: str, request: CancellationRequest, *_args: object) -> str:
    return f"cancelling engagement {request.idempotency_key} through {integration!r}"


def _offer_problem(offer: object, *_args: object) -> str | None:
    if (isinstance(offer, QuoteOffer) and isinstance(offer.amount, Decimal)
            and offer.amount.is_finite() and 0 <= offer.amount <= MAX_AMOUNT
            and isinstance(offer.reference, str)):
        return None
    return f"returned {offer!r} instead of a QuoteOffer"


def _quoting(integration: str, request: QuoteRequest, *_args: object) -> str:
    return f"asking {integration!r} for a quote for {request.capability!r}"


CONTRACTOR_INTEGRATIONS = Family("spm_contractor_integrations", ContractorIntegration,
                                 "contractor integration", "contractor integrations",
                                 "integration")
#: ``integration.send_engagement(request) -> EngagementReceipt``
SEND_ENGAGEMENT: Method[EngagementReceipt] = Method(CONTRACTOR_INTEGRATIONS, "send_engagement",
                                            _sending, _receipt_problem)
#: ``integration.cancel_engagement(request) -> CancellationReceipt``, for integrations
#: that can cancel (the outbox checks first: without it nothing is called)
CANCEL_ENGAGEMENT: Method[CancellationReceipt] = Method(
    CONTRACTOR_INTEGRATIONS, "cancel_engagement", _cancelling, _cancellation_problem,
    absent="the integration {item!r} cannot cancel engagements", field="engagementId")
#: ``integration.request_quote(request) -> QuoteOffer``, for integrations that quote
REQUEST_QUOTE: Method[QuoteOffer] = Method(
    CONTRACTOR_INTEGRATIONS, "request_quote", _quoting, _offer_problem,
    absent="the integration {item!r} cannot ask for quotes", field="capabilityId")
#: ``integration.validate_settings(settings)``: one contractor's settings
VALIDATE_CONTRACTOR_SETTINGS: Validator[None] = Validator(
    CONTRACTOR_INTEGRATIONS, "validate_settings", "validating contractor settings",
    "integration {item!r}", "settings")


# --- measurement sources ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeasurementQuery:
    """What a measurement source is asked for: the current value of one KPI that names
    it. ``query`` and ``kpi_settings`` are what the portfolio manager wrote on the KPI
    (a PromQL expression, say, and where to send it)."""

    organisation_id: int
    service_id: int
    service_name: str
    kpi_id: int
    kpi_name: str
    unit: str
    query: str
    kpi_settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SourcedValue:
    """A source's answer: the value (at most four decimals are kept, the rest rounded
    half-up) and when it was measured (None: when it was asked)."""

    value: Decimal
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SourceUnavailable:
    """A source's answer when it has no value to give (the monitoring system down, the
    query matching nothing): the reason, shown on the KPI, which reads UNKNOWN."""

    reason: str


@dataclass(frozen=True, slots=True)
class MeasurementSource:
    """A named way of reading KPI values from a monitoring system. Its calls never
    happen inside a database transaction.

    ``read(query, settings)`` gets one KPI's ``MeasurementQuery`` and the organisation's
    settings for the plugin and returns a ``SourcedValue``, or ``SourceUnavailable``
    with the reason there is none; either that or raising (or timing out) leaves the
    KPI UNKNOWN with the reason until a later pull gives a value. It may be a
    coroutine function. ``validate_kpi_settings`` checks a KPI's source settings when
    the KPI is defined; ``validate_settings`` the organisation's.
    """

    name: str
    title: str
    description: str
    read: Callable[[MeasurementQuery, Settings],
                   SourcedValue | SourceUnavailable
                   | Awaitable[SourcedValue | SourceUnavailable]]
    validate_kpi_settings: ValidateSettings = accept_any_settings
    validate_settings: ValidateSettings = accept_any_settings


def _sourced_problem(result: object, *_args: object) -> str | None:
    if isinstance(result, SourceUnavailable):
        return None if isinstance(result.reason, str) and result.reason.strip() else (
            f"returned {result!r} without a reason")
    if not isinstance(result, SourcedValue):
        return f"returned {result!r} instead of a SourcedValue or SourceUnavailable"
    if not (isinstance(result.value, Decimal) and result.value.is_finite()
            and abs(result.value) <= MAX_AMOUNT):
        return f"returned the value {result.value!r}, not a number SPM API can keep"
    if result.at is not None and (not isinstance(result.at, datetime)
                                  or result.at.tzinfo is None):
        return f"returned the time {result.at!r}, not a datetime with a time zone"
    return None


def _reading(source: str, query: MeasurementQuery, *_args: object) -> str:
    return f"reading KPI {query.kpi_name!r} of {query.service_name!r} from {source!r}"


MEASUREMENT_SOURCES = Family("spm_measurement_sources", MeasurementSource,
                             "measurement source", "measurement sources", "source")
#: ``source.read(query, settings) -> SourcedValue | SourceUnavailable``
READ_MEASUREMENT: Method[SourcedValue | SourceUnavailable] = Method(
    MEASUREMENT_SOURCES, "read", _reading, _sourced_problem)
#: ``source.validate_kpi_settings(settings)``: one KPI's source settings
VALIDATE_KPI_SETTINGS: Validator[None] = Validator(
    MEASUREMENT_SOURCES, "validate_kpi_settings", "validating KPI source settings",
    "measurement source {item!r}", "sourceSettings")


# --- health models ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KpiReading:
    """One KPI of a live service and its current value. ``value`` is None when nothing
    was measured yet, or when ``unavailable`` says why the source gave none."""

    kpi_id: int
    name: str
    unit: str
    kind: KpiKind
    direction: KpiDirection
    target: Decimal
    warning_threshold: Decimal
    breach_threshold: Decimal
    value: Decimal | None = None
    #: The month (``2026-11``) or the instant (ISO 8601) the value is for.
    period: str | None = None
    unavailable: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceReadings:
    """What a health model judges: a live service and its KPIs' current values."""

    organisation_id: int
    service_id: int
    service_name: str
    readings: tuple[KpiReading, ...]


@dataclass(frozen=True, slots=True)
class KpiJudgement:
    """How one KPI stands, and why, in words for the people reading the health."""

    kpi_id: int
    status: Health
    explanation: str


@dataclass(frozen=True, slots=True)
class HealthAssessment:
    """A service's health and one judgement per KPI, in the readings' order."""

    status: Health
    explanation: str
    judgements: tuple[KpiJudgement, ...]


@dataclass(frozen=True, slots=True)
class HealthModel:
    """A named way of turning a live service's KPI readings into its health.

    ``assess(service, settings)`` gets the ``ServiceReadings`` and the organisation's
    settings for the plugin, returns a ``HealthAssessment`` with one ``KpiJudgement``
    per reading; it may be a coroutine function and must be a pure function of its
    arguments (it runs whenever a health is read). ``default``: the model every
    organisation's health is computed with (exactly one is).
    """

    name: str
    title: str
    description: str
    assess: Callable[[ServiceReadings, Settings],
                     HealthAssessment | Awaitable[HealthAssessment]]
    validate_settings: ValidateSettings = accept_any_settings
    default: bool = False


def _assessment_problem(result: object, service: ServiceReadings, *_args: object
                        ) -> str | None:
    if not (isinstance(result, HealthAssessment) and isinstance(result.status, Health)
            and isinstance(result.explanation, str)
            and isinstance(result.judgements, tuple | list)):
        return f"returned {result!r} instead of a HealthAssessment"
    expected = [reading.kpi_id for reading in service.readings]
    for judgement in result.judgements:
        if not (isinstance(judgement, KpiJudgement) and isinstance(judgement.status, Health)
                and isinstance(judgement.explanation, str)):
            return f"returned {judgement!r} instead of a KpiJudgement"
    judged = [judgement.kpi_id for judgement in result.judgements]
    if judged != expected:
        return f"judged the KPIs {judged}, not each of {expected} once in order"
    return None


def _assessing(model: str, service: ServiceReadings, *_args: object) -> str:
    return f"assessing the health of {service.service_name!r} with {model!r}"


HEALTH_MODELS = Family("spm_health_models", HealthModel, "health model", "health models",
                       "healthModel", needs_default=True)
#: ``model.assess(service, settings) -> HealthAssessment``
ASSESS_HEALTH: Method[HealthAssessment] = Method(HEALTH_MODELS, "assess", _assessing,
                                                 _assessment_problem)


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


STAGE_CHANGE_OBSERVERS: Observer[StageChanged] = Observer("spm_stage_changed",
                                                          "observing a stage change")
