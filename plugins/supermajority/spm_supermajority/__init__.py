"""An example third-party approval rule: a supermajority of the decisive votes, once a
quorum of the organisation's decision makers has voted, with an optional veto role.

The module itself is the plugin: ``pyproject.toml`` advertises it under the ``spm_api``
entry-point group as ``supermajority``, and SPM API calls its ``@hookimpl`` functions.
Everything it needs comes from the public plugin API, ``spm_api.plugins``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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
_ROLE_VALUES = tuple(role.value for role in Role)


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
    to a default. Raises ``PluginSettingsError`` with words for the admin.
    """
    if not isinstance(settings, Mapping):
        raise PluginSettingsError(
            f"the supermajority settings must be an object, not {type(settings).__name__}")
    unknown = sorted(str(key) for key in settings if key not in KNOWN_KEYS)
    if unknown:
        raise PluginSettingsError(
            f"unknown setting {', '.join(repr(key) for key in unknown)}: the supermajority "
            f"rule reads only threshold, quorum and veto_role")
    defaults = SupermajoritySettings()

    threshold = defaults.threshold
    if settings.get("threshold") is not None:
        threshold = _fraction("threshold", settings["threshold"])
        if not Fraction(1, 2) < threshold <= 1:
            raise PluginSettingsError(
                f"threshold must be more than 1/2 and at most 1 (a supermajority of the "
                f"decisive votes), not {threshold}")

    quorum = defaults.quorum
    if settings.get("quorum") is not None:
        quorum = _fraction("quorum", settings["quorum"])
        if not 0 < quorum <= 1:
            raise PluginSettingsError(
                f"quorum must be more than 0 and at most 1 (a share of all decision "
                f"makers), not {quorum}")

    veto_role = defaults.veto_role
    raw_role = settings.get("veto_role")
    if raw_role is not None:
        if not isinstance(raw_role, str) or raw_role not in _ROLE_VALUES:
            raise PluginSettingsError(
                f"veto_role must be one of {', '.join(_ROLE_VALUES)} (or null for no veto), "
                f"not {raw_role!r}")
        veto_role = Role(raw_role)

    return SupermajoritySettings(threshold=threshold, quorum=quorum, veto_role=veto_role)


def validate_settings(settings: Settings) -> None:
    """Refuse settings the rule cannot use; called when an admin configures the plugin."""
    parse_settings(settings)


def _fraction(key: str, value: object) -> Fraction:
    """A share written as a number, a decimal string or a fraction string, exactly."""
    expected = (f'{key} must be a number, a decimal string such as "0.75" or a fraction '
                f'such as "2/3"')
    if isinstance(value, bool):  # bool is an int to Python, but true is no share
        raise PluginSettingsError(f"{expected}, not {value!r}")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PluginSettingsError(f"{expected}, not {value!r}")
        # Through its shortest decimal form: 0.75 means 3/4, not the nearest binary float.
        return Fraction(repr(value))
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise PluginSettingsError(f"{expected}, not {value!r}") from None
    raise PluginSettingsError(f"{expected}, not {value!r}")


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
