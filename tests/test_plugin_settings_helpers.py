"""``spm_api.plugins.settings``, seen as a plugin author uses it: a rule whose settings are
checked with the helpers, configured through the host as ``configurePlugin`` does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from spm_api.plugins import (
    ApprovalRule,
    ApprovalStatus,
    Ballot,
    Decision,
    Role,
    Settings,
    Verdict,
    hookimpl,
)
from spm_api.plugins.host import PluginHost
from spm_api.plugins.manager import build_plugin_manager
from spm_api.plugins.settings import an_object, decimal_number, fraction, member, refuse_unknown
from spm_api.vocabulary.errors import DomainError, ErrorCode

PLUGIN = "quorum_rule"


@dataclass(frozen=True)
class QuorumSettings:
    share: Fraction = Fraction(1, 2)
    budget: Decimal = Decimal(0)
    role: Role | None = None


def parse(settings: Settings) -> QuorumSettings:
    settings = an_object(settings, "the quorum_rule settings")
    refuse_unknown(settings, ("share", "budget", "role"), reader="the quorum rule")
    parsed = QuorumSettings()
    if settings.get("share") is not None:
        parsed = QuorumSettings(share=fraction(settings["share"], "share"))
    budget = (parsed.budget if settings.get("budget") is None
              else decimal_number(settings["budget"], "budget"))
    role = None if settings.get("role") is None else member(settings["role"], "role", Role)
    return QuorumSettings(parsed.share, budget, role)


def validate_settings(settings: Settings) -> None:
    parse(settings)


def evaluate(ballot: Ballot, settings: Settings) -> Verdict:
    share = parse(settings).share
    approved = ballot.count(Decision.APPROVE) >= share * len(ballot.decision_makers)
    return Verdict(ApprovalStatus.APPROVED if approved else ApprovalStatus.PENDING,
                   f"needs {share} of the decision makers")


class QuorumRule:
    @hookimpl
    def spm_approval_rules(self) -> list[ApprovalRule]:
        return [ApprovalRule(name="quorum", title="Quorum", description="A share approves.",
                             evaluate=evaluate, validate_settings=validate_settings)]


@pytest.fixture(scope="module")
def host() -> Iterator[PluginHost]:
    manager = build_plugin_manager(frozenset())
    manager.register(QuorumRule(), name=PLUGIN)
    host = PluginHost(manager)
    yield host
    host.close()


@pytest.mark.parametrize(("settings", "parsed"), [
    ({}, QuorumSettings()),
    ({"share": None, "budget": None, "role": None}, QuorumSettings()),
    ({"share": "2/3"}, QuorumSettings(share=Fraction(2, 3))),
    ({"share": 0.75}, QuorumSettings(share=Fraction(3, 4))),
    ({"share": "0.6", "budget": 0.1}, QuorumSettings(Fraction(3, 5), Decimal("0.1"))),
    ({"budget": " 25000.00 ", "role": "FINANCE"},
     QuorumSettings(budget=Decimal("25000.00"), role=Role.FINANCE)),
    ({"budget": "-0"}, QuorumSettings()),
])
def test_settings_the_helpers_accept(host: PluginHost, settings: dict[str, Any],
                                     parsed: QuorumSettings) -> None:
    host.validate_settings(PLUGIN, settings)
    assert parse(settings) == parsed


@pytest.mark.parametrize(("settings", "message"), [
    (["share"], "the quorum_rule settings must be an object, not list"),
    ({"Share": "1/2", "quota": 1},
     "unknown setting 'Share', 'quota': the quorum rule reads only share, budget and role"),
    ({"share": "half"},
     'share must be a number, a decimal string such as "0.75" or a fraction such as "2/3", '
     "not 'half'"),
    ({"share": True}, "share must be a number, a decimal string"),
    ({"share": float("nan")}, "share must be a number, a decimal string"),
    ({"budget": "1,000"}, "budget must be a number, not '1,000'"),
    ({"budget": "NaN"}, "budget must be a number, not 'NaN'"),
    ({"budget": False}, "budget must be a number, not False"),
    ({"budget": [1]}, "budget must be a number, not [1]"),
    ({"budget": "-5"}, "budget must be zero or more, not '-5'"),
    ({"budget": "1e20"}, "budget is too large: '1e20'"),
    ({"role": "CFO"}, "role must be one of "),
    ({"role": 1}, "role must be one of "),
])
def test_refusals_reach_the_admin_as_validation_errors_in_the_helpers_words(
        host: PluginHost, settings: object, message: str) -> None:
    with pytest.raises(DomainError) as refused:
        host.validate_settings(PLUGIN, settings)  # type: ignore[arg-type]
    [problem] = refused.value.problems
    assert problem.code is ErrorCode.VALIDATION
    assert problem.field == "settings"
    assert problem.message.startswith(f"plugin {PLUGIN!r}: {message}")


def test_role_lists_every_role() -> None:
    with pytest.raises(ValueError, match="role must be one of") as refused:
        member("CFO", "role", Role)
    assert all(role.value in str(refused.value) for role in Role)


def test_negative_numbers_when_the_plugin_allows_them() -> None:
    assert decimal_number("-2.50", "offset", negative=True) == Decimal("-2.50")
    assert decimal_number(10**20, "big", max_integer_digits=25) == Decimal(10**20)


def test_no_known_keys_reads_no_settings() -> None:
    with pytest.raises(ValueError, match=r"^unknown parameter 'x': the flat model reads no "
                                         r"parameters$"):
        refuse_unknown({"x": 1}, (), reader="the flat model", kind="parameter")
