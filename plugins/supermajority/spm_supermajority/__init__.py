"""An example third-party approval rule: a supermajority of the decisive votes, once a
quorum of the organisation's decision makers has voted, with an optional veto role.

The module itself is the plugin: ``pyproject.toml`` advertises it under the ``spm_api``
entry-point group as ``supermajority``, and SPM API calls its ``@hookimpl`` functions.
Everything it needs comes from the public plugin API, ``spm_api.plugins``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from spm_api.plugins import (
    ApprovalRule,
    ApprovalStatus,
    Ballot,
    Decision,
    PluginSettingsError,
    Role,
    Settings,
    Verdict,
    hookimpl,
)
from spm_api.plugins.settings import an_object, fraction, member, refuse_unknown

__all__ = [
    "RULE_NAME",
    "SupermajoritySettings",
    "evaluate",
    "parse_settings",
    "spm_approval_rules",
    "validate_settings",
]

RULE_NAME = "supermajority"

KNOWN_KEYS = ("threshold", "quorum", "veto_role")


@dataclass(frozen=True, slots=True)
class SupermajoritySettings:
    """The organisation's settings for this plugin, checked and with defaults filled in."""

    #: Share of the decisive votes (approvals and rejections) that must approve.
    threshold: Fraction = Fraction(2, 3)
    #: Share of all decision makers who must have voted (abstaining counts as voting).
    quorum: Fraction = Fraction(1, 2)
    #: A decision maker holding this role who rejects rejects the round outright.
    veto_role: Role | None = None


# --- settings --------------------------------------------------------------------


def parse_settings(settings: Settings) -> SupermajoritySettings:
    """Check the settings an admin sent and fill in the defaults.

    Settings arrive as JSON, so a number may be an int, a float or a string: numbers,
    decimal strings ("0.75") and fractions ("2/3") are accepted. A key set to null is
    treated as not set. Unknown keys are refused, so a typo cannot silently fall back
    to a default. Raises ``PluginSettingsError`` with words for the admin; the checks
    come from ``spm_api.plugins.settings``.
    """
    settings = an_object(settings, "the supermajority settings")
    refuse_unknown(settings, KNOWN_KEYS, reader="the supermajority rule")
    defaults = SupermajoritySettings()

    threshold = defaults.threshold
    if settings.get("threshold") is not None:
        threshold = fraction(settings["threshold"], "threshold")
        if not Fraction(1, 2) < threshold <= 1:
            raise PluginSettingsError(
                f"threshold must be more than 1/2 and at most 1 (a supermajority of the "
                f"decisive votes), not {threshold}")

    quorum = defaults.quorum
    if settings.get("quorum") is not None:
        quorum = fraction(settings["quorum"], "quorum")
        if not 0 < quorum <= 1:
            raise PluginSettingsError(
                f"quorum must be more than 0 and at most 1 (a share of all decision "
                f"makers), not {quorum}")

    veto_role = defaults.veto_role
    raw_role = settings.get("veto_role")
    if raw_role is not None:
        veto_role = member(raw_role, "veto_role", Role)

    return SupermajoritySettings(threshold=threshold, quorum=quorum, veto_role=veto_role)


def validate_settings(settings: Settings) -> None:
    """Refuse settings the rule cannot use; called when an admin configures the plugin."""
    parse_settings(settings)


# --- the rule --------------------------------------------------------------------


def evaluate(ballot: Ballot, settings: Settings) -> Verdict:
    """In order:

    1. a decision maker holding ``veto_role`` rejects → REJECTED;
    2. no decision makers → PENDING;
    3. fewer than ``quorum`` of all decision makers voted (abstentions count) → PENDING;
    4. everyone who voted abstained → PENDING;
    5. approvals are at least ``threshold`` of approvals + rejections → APPROVED;
    6. the threshold stays out of reach even if everyone yet to vote approves → REJECTED;
    7. otherwise → PENDING.
    """
    config = parse_settings(settings)

    if config.veto_role is not None:
        vetoes = [vote.voter.name for vote in ballot.votes_of_role(config.veto_role)
                  if vote.decision is Decision.REJECT]
        if vetoes:
            who = _join(vetoes)
            holds = "holds" if len(vetoes) == 1 else "hold"
            return Verdict(
                ApprovalStatus.REJECTED,
                f"{who} {holds} the {config.veto_role.value} veto and rejected, which "
                f"rejects the proposal outright.")

    eligible = len(ballot.decision_makers)
    if eligible == 0:
        return Verdict(ApprovalStatus.PENDING,
                       "The organisation has no decision makers to vote.")

    voted = len(ballot.votes)
    approvals = ballot.count(Decision.APPROVE)
    rejections = ballot.count(Decision.REJECT)
    abstentions = ballot.count(Decision.ABSTAIN)
    quorum_needed = math.ceil(config.quorum * eligible)
    if voted < quorum_needed:
        return Verdict(
            ApprovalStatus.PENDING,
            f"{voted} of {eligible} decision makers voted, quorum needs {quorum_needed} "
            f"({config.quorum} of them).")

    tally = (f"{voted} of {eligible} decision makers voted: {approvals} approved, "
             f"{rejections} rejected, {abstentions} abstained.")
    decisive = approvals + rejections
    if decisive == 0:
        return Verdict(ApprovalStatus.PENDING,
                       f"{tally} Everyone abstained, so there is no decisive vote yet.")

    share = f"{approvals} of {decisive} decisive votes approve"
    if Fraction(approvals, decisive) >= config.threshold:
        return Verdict(ApprovalStatus.APPROVED,
                       f"{tally} {share}, which meets the {config.threshold} threshold.")

    outstanding = eligible - voted
    best_case = Fraction(approvals + outstanding, decisive + outstanding)
    if best_case < config.threshold:
        if outstanding == 0:
            why = "and everyone has voted"
        else:
            why = (f"and it stays out of reach even if the {_people(outstanding)} "
                   f"yet to vote approve")
        return Verdict(ApprovalStatus.REJECTED,
                       f"{tally} {share}, short of the {config.threshold} threshold, {why}.")
    return Verdict(
        ApprovalStatus.PENDING,
        f"{tally} {share}, short of the {config.threshold} threshold; the "
        f"{_people(outstanding)} yet to vote can still reach it.")


def _people(count: int) -> str:
    return f"{count} decision maker" if count == 1 else f"{count} decision makers"


def _join(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


@hookimpl
def spm_approval_rules() -> list[ApprovalRule]:
    return [ApprovalRule(
        name=RULE_NAME,
        title="Supermajority with quorum",
        description="Approved when, once a quorum of the decision makers has voted, at "
                    "least the threshold (2/3 unless configured) of the approve and "
                    "reject votes approve; rejected when the threshold can no longer be "
                    "reached, or at once when a holder of the optional veto role rejects.",
        evaluate=evaluate,
        validate_settings=validate_settings,
    )]
