"""The plugin API: what a plugin package imports.

A plugin is a module (or object) with ``@hookimpl`` functions named after the specs in
``spm_api.plugins.hookspecs``, advertised under the ``spm_api`` entry-point group.
"""

from spm_api.plugins.contracts import (
    ApprovalRule,
    Ballot,
    CancellationReceipt,
    CancellationRequest,
    CastVote,
    Charge,
    ChargeableUsage,
    ChargingModel,
    ChargingPeriod,
    ContractorIntegration,
    EngagementReceipt,
    EngagementRequest,
    PluginSettingsError,
    QuoteOffer,
    QuoteRequest,
    Score,
    ScoringModel,
    ServiceFacts,
    Settings,
    StageChanged,
    Support,
    Verdict,
    Voter,
)
from spm_api.plugins.markers import hookimpl
from spm_api.vocabulary.enums import ApprovalStatus, Decision, InvestmentCategory, Role
from spm_api.vocabulary.money import allocate, minor_unit, rounded

__all__ = [
    "ApprovalRule",
    "ApprovalStatus",
    "Ballot",
    "CancellationReceipt",
    "CancellationRequest",
    "CastVote",
    "Charge",
    "ChargeableUsage",
    "ChargingModel",
    "ChargingPeriod",
    "ContractorIntegration",
    "Decision",
    "EngagementReceipt",
    "EngagementRequest",
    "InvestmentCategory",
    "PluginSettingsError",
    "QuoteOffer",
    "QuoteRequest",
    "Role",
    "Score",
    "ScoringModel",
    "ServiceFacts",
    "Settings",
    "StageChanged",
    "Support",
    "Verdict",
    "Voter",
    "allocate",
    "hookimpl",
    "minor_unit",
    "rounded",
]
