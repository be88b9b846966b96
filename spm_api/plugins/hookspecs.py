"""The hooks a plugin can implement. This module is the plugin API's one contract.

Every hook is prefixed ``spm_``. Registration hooks are called once, when the plugin
manager is built at start-up; a plugin that returns something other than what the
spec says stops the start with an error naming it. The objects they register are
called later, per operation, each call bounded by ``SPM_PLUGIN_TIMEOUT``: one that
raises, times out or returns the wrong type fails that one operation with the
``PLUGIN_ERROR`` user error naming the plugin, the transaction is rolled back, and the
error is logged with its traceback.

Any hook implementation may be a coroutine function; its result is awaited.

What a registration hook registers, and how the core calls it, is its ``Family`` and
its ``Method`` objects in ``contracts``; ``REGISTRATIONS`` lists the families a host
collects, so a new family is a spec here, its contract there and its call site.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pluggy

from spm_api.plugins.contracts import (
    APPROVAL_RULES,
    CHARGING_MODELS,
    CONTRACTOR_INTEGRATIONS,
    HEALTH_MODELS,
    MEASUREMENT_SOURCES,
    SCORING_MODELS,
    ApprovalRule,
    ChargingModel,
    ContractorIntegration,
    HealthModel,
    MeasurementSource,
    ScoringModel,
    StageChanged,
)
from spm_api.plugins.family import Family

PROJECT = "spm_api"

hookspec = pluggy.HookspecMarker(PROJECT)

#: The registration families, collected once when a host is built.
REGISTRATIONS: tuple[Family[Any], ...] = (
    APPROVAL_RULES, CHARGING_MODELS, SCORING_MODELS, CONTRACTOR_INTEGRATIONS,
    MEASUREMENT_SOURCES, HEALTH_MODELS)


@hookspec
def spm_approval_rules() -> Iterable[ApprovalRule]:  # type: ignore[empty-body]
    """Register approval rules.

    Called once at start-up. Returns the ``ApprovalRule`` objects this plugin offers;
    rule names are unique across all plugins. An organisation's admin chooses which
    rules apply (``setApprovalRules``), the one registered with ``default=True`` until
    they do; the round is APPROVED when every chosen rule
    says APPROVED and REJECTED as soon as one says REJECTED.

    ``rule.evaluate(ballot, settings)`` is then called with the round's ``Ballot`` and
    the organisation's settings for this plugin whenever the round is read, after each
    vote (inside the vote's transaction) and when the service is chartered or
    rejected. It returns a ``Verdict``. Failing, it fails that vote, transition or
    read with ``PLUGIN_ERROR``.
    """


@hookspec
def spm_charging_models() -> Iterable[ChargingModel]:  # type: ignore[empty-body]
    """Register charging models.

    Called once at start-up. Returns the ``ChargingModel`` objects this plugin offers;
    model names are unique across all plugins. A service's charging policy names one
    model and its parameters, which ``model.validate_parameters`` checks when the policy
    is set; a service without one stands for the model registered with ``default=True``
    and is not charged. ``model.charge(period, parameters, settings)`` is called by a
    charging run for each charged service with its ``ChargingPeriod``, the policy's
    parameters and the organisation's settings for the plugin, and returns the
    ``Charge`` lines: at most one per customer, each for a customer who used the service
    in the period, each amount in the currency's minor unit. Failing, or returning
    anything else, it fails the run with ``PLUGIN_ERROR`` and nothing is issued.
    """


@hookspec
def spm_scoring_models() -> Iterable[ScoringModel]:  # type: ignore[empty-body]
    """Register scoring models for the investment ranking of pipeline services.

    Called once at start-up. Returns the ``ScoringModel`` objects this plugin offers;
    names are unique across all plugins. The one registered with ``default=True`` is
    used when the report names none. ``model.score(service, support, settings)`` is
    called once per pipeline service when the ``pipelineRanking`` report is read, with
    the service's ``ServiceFacts``, its stakeholders' ``Support`` and the organisation's
    settings for the plugin; it returns a ``Score``. Failing, it fails that report with
    ``PLUGIN_ERROR``.
    """


@hookspec
def spm_contractor_integrations() -> Iterable[ContractorIntegration]:  # type: ignore[empty-body]
    """Register contractor integrations.

    Called once at start-up. Returns the ``ContractorIntegration`` objects this plugin
    offers; names are unique across all plugins. A contractor in the organisation's
    registry names the integration that reaches it. Its calls are made by the delivery
    worker after the chartering transaction commits, never inside it; failing, the
    request stays pending and is retried with backoff under the same idempotency key.
    Cancellations (a chartered service cancelled, an engagement of a retiring service
    ended) go the same way through ``cancel_engagement``; an integration without it has
    its engagements marked CANCELLED without a call.
    """


@hookspec
def spm_measurement_sources() -> Iterable[MeasurementSource]:  # type: ignore[empty-body]
    """Register measurement sources: ways of reading KPI values from monitoring systems.

    Called once at start-up. Returns the ``MeasurementSource`` objects this plugin
    offers; names are unique across all plugins. A MEASURED KPI names the source it is
    read from, with a query and settings of its own that ``source.validate_kpi_settings``
    checks when the KPI is defined. ``source.read(query, settings)`` is called for each
    KPI that names it when measurements are pulled (``pullMeasurements``, ``spm-api
    measurements pull``), never inside a database transaction; its ``SourcedValue`` is
    recorded as a measurement. Failing, the KPI keeps no new value and reads UNKNOWN
    with the reason until a later pull succeeds; the other KPIs are still read.
    """


@hookspec
def spm_health_models() -> Iterable[HealthModel]:  # type: ignore[empty-body]
    """Register health models: ways of judging a live service from its KPIs.

    Called once at start-up. Returns the ``HealthModel`` objects this plugin offers;
    names are unique across all plugins, and the one registered with ``default=True``
    computes every organisation's health. ``model.assess(service, settings)`` is called
    whenever a live service's health is read (``Service.health``, the portfolio's health
    counts, the ``health`` filter) with its ``ServiceReadings`` and the organisation's
    settings for the plugin, and returns a ``HealthAssessment``. Failing, that read
    fails with ``PLUGIN_ERROR``.
    """


@hookspec
def spm_stage_changed(event: StageChanged) -> None:
    """Observe a stage change.

    Called once per change, after the transaction that made it has committed, with the
    ``StageChanged`` event. The return value is ignored. The change is already
    recorded, so a failing observer cannot undo it: its error is logged with the
    traceback and the other observers are still called.
    """
