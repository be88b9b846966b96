"""An example third-party approval rule: a proposal whose estimated cost is above a
threshold needs the sign-off of a decision maker holding a finance role.

The module itself is the plugin: ``pyproject.toml`` advertises it under the ``spm_api``
entry-point group as ``finance_approval``, and SPM API calls its ``@hookimpl``
functions. Everything it needs comes from the public plugin API, ``spm_api.plugins``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

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
from spm_api.plugins.settings import an_object, decimal_number, member, refuse_unknown

__all__ = [
    "RULE_NAME",
    "FinanceApprovalSettings",
    "evaluate",
    "parse_settings",
    "spm_approval_rules",
    "validate_settings",
]

RULE_NAME = "finance_approval"

KNOWN_KEYS = ("threshold", "role")


@dataclass(frozen=True, slots=True)
class FinanceApprovalSettings:
    """The organisation's settings for this plugin, checked and with defaults filled in."""

    #: Estimated costs up to and including this amount need no sign-off.
    threshold: Decimal = Decimal(0)
    #: The role whose holders (among the decision makers) sign off.
    role: Role = Role.FINANCE


# --- settings --------------------------------------------------------------------


def parse_settings(settings: Settings) -> FinanceApprovalSettings:
    """Check the settings an admin sent and fill in the defaults.

    Settings arrive as JSON, so an amount may be an int, a float or a decimal string
    ("25000.00"); all are accepted. A key set to null is treated as not set. Unknown
    keys are refused, so a typo cannot silently fall back to a default. Raises
    ``PluginSettingsError`` with words for the admin; the checks come from
    ``spm_api.plugins.settings``.
    """
    settings = an_object(settings, "the finance_approval settings")
    refuse_unknown(settings, KNOWN_KEYS, reader="the finance_approval rule")
    defaults = FinanceApprovalSettings()

    threshold = defaults.threshold
    if settings.get("threshold") is not None:
        threshold = decimal_number(settings["threshold"], "threshold", negative=True)
        if threshold < 0:
            raise PluginSettingsError(
                f"threshold must be zero or more (0 means every cost needs sign-off), "
                f"not {threshold}")

    role = defaults.role
    raw_role = settings.get("role")
    if raw_role is not None:
        role = member(raw_role, "role", Role)

    return FinanceApprovalSettings(threshold=threshold, role=role)


def validate_settings(settings: Settings) -> None:
    """Refuse settings the rule cannot use; called when an admin configures the plugin."""
    parse_settings(settings)


# --- the rule --------------------------------------------------------------------


def evaluate(ballot: Ballot, settings: Settings) -> Verdict:
    """In order:

    1. no estimated cost recorded → PENDING;
    2. estimated cost at or below ``threshold`` → APPROVED, no sign-off needed;
    3. a decision maker holding ``role`` approves → APPROVED;
    4. no decision maker holds ``role`` → PENDING, nobody can sign off;
    5. every decision maker holding ``role`` rejects → REJECTED;
    6. otherwise → PENDING, waiting for their sign-off.
    """
    config = parse_settings(settings)
    role = config.role.value
    cost = ballot.service.estimated_cost

    if cost is None:
        return Verdict(
            ApprovalStatus.PENDING,
            f"Record the estimated cost of {ballot.service.name}: costs above "
            f"{config.threshold} need sign-off by a {role} decision maker.")
    if cost <= config.threshold:
        return Verdict(
            ApprovalStatus.APPROVED,
            f"The estimated cost {cost} is within the threshold of {config.threshold}, "
            f"no sign-off needed.")

    above = f"The estimated cost {cost} is above the threshold of {config.threshold}"
    signed = [vote.voter.name for vote in ballot.votes_of_role(config.role)
              if vote.decision is Decision.APPROVE]
    if signed:
        return Verdict(ApprovalStatus.APPROVED,
                       f"{above}; {_join(signed)} ({role}) signed off.")

    holders = ballot.holders_of(config.role)
    if not holders:
        return Verdict(
            ApprovalStatus.PENDING,
            f"{above} and needs sign-off by a {role} decision maker, but no decision "
            f"maker holds the {role} role, so nobody can sign off. Give the role to a "
            f"decision maker.")

    decisions = {vote.voter.person_id: vote.decision for vote in ballot.votes}
    if all(decisions.get(holder.person_id) is Decision.REJECT for holder in holders):
        every = "the only" if len(holders) == 1 else f"all {len(holders)}"
        return Verdict(
            ApprovalStatus.REJECTED,
            f"{above}; {every} {role} decision {_makers(len(holders))} "
            f"({_join([holder.name for holder in holders])}) rejected.")
    waiting = [holder.name for holder in holders
               if decisions.get(holder.person_id) is not Decision.REJECT]
    return Verdict(
        ApprovalStatus.PENDING,
        f"{above} and needs sign-off by a {role} decision maker: waiting for "
        f"{_join(waiting, 'or')}.")


def _makers(count: int) -> str:
    return "maker" if count == 1 else "makers"


def _join(names: list[str], last: str = "and") -> str:
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} {last} {names[-1]}"


@hookimpl
def spm_approval_rules() -> list[ApprovalRule]:
    return [ApprovalRule(
        name=RULE_NAME,
        title="Finance sign-off above a cost threshold",
        description="Proposals whose estimated cost is above the threshold (0 unless "
                    "configured, so every cost) need the approval of a decision maker "
                    "holding the finance role; rejected when every such decision maker "
                    "rejects.",
        evaluate=evaluate,
        validate_settings=validate_settings,
    )]
