"""Unit tests of the finance_approval rule: plain Ballot objects in, Verdicts out, no
database. Run with ``pytest plugins/finance_approval``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from importlib.metadata import entry_points
from typing import Any

import pluggy
import pytest
import spm_finance_approval
from spm_finance_approval import (
    RULE_NAME,
    FinanceApprovalSettings,
    evaluate,
    parse_settings,
    spm_approval_rules,
    validate_settings,
)

from spm_api.plugins import (
    ApprovalRule,
    ApprovalStatus,
    Ballot,
    CastVote,
    Decision,
    InvestmentCategory,
    PluginSettingsError,
    Role,
    ServiceFacts,
    Verdict,
    Voter,
)
from spm_api.plugins.contracts import APPROVAL_RULES, EVALUATE

APPROVED = ApprovalStatus.APPROVED
REJECTED = ApprovalStatus.REJECTED
PENDING = ApprovalStatus.PENDING

AT = datetime(2025, 1, 1, tzinfo=UTC)

FIONA = Voter(1, "Fiona Finch", frozenset({Role.DECISION_MAKER, Role.FINANCE}))
FRANK = Voter(2, "Frank Fox", frozenset({Role.DECISION_MAKER, Role.FINANCE}))
PAUL = Voter(3, "Paul Price", frozenset({Role.DECISION_MAKER, Role.PORTFOLIO_MANAGER}))
DORA = Voter(4, "Dora Dean", frozenset({Role.DECISION_MAKER}))
EVERYONE = (FIONA, FRANK, PAUL, DORA)


def ballot(cost: Decimal | str | None,
           decisions: Iterable[tuple[Voter, Decision]] = (),
           decision_makers: Iterable[Voter] = EVERYONE) -> Ballot:
    return Ballot(
        service=ServiceFacts(id=7, organisation_id=1, name="Data platform",
                             investment_category=InvestmentCategory.TRANSFORM,
                             estimated_cost=None if cost is None else Decimal(cost)),
        decision_makers=tuple(decision_makers),
        votes=tuple(CastVote(voter=who, decision=decision, comment="", cast_at=AT)
                    for who, decision in decisions),
    )


def judge(the_ballot: Ballot, **settings: Any) -> Verdict:
    return evaluate(the_ballot, settings)


# --- settings --------------------------------------------------------------------


def test_defaults_when_nothing_is_set() -> None:
    assert parse_settings({}) == FinanceApprovalSettings(threshold=Decimal(0), role=Role.FINANCE)


def test_null_values_mean_the_default() -> None:
    assert parse_settings({"threshold": None, "role": None}) == FinanceApprovalSettings()


@pytest.mark.parametrize(("value", "expected"), [
    (0, Decimal(0)),
    ("0", Decimal(0)),
    (25000, Decimal(25000)),
    ("25000.00", Decimal("25000.00")),
    (" 10 ", Decimal(10)),
    (1234.5, Decimal("1234.5")),
    (0.1, Decimal("0.1")),  # exactly one tenth, not the nearest binary float
    ("1e3", Decimal(1000)),
])
def test_threshold_accepts_numbers_and_decimal_strings(value: object, expected: Decimal) -> None:
    assert parse_settings({"threshold": value}).threshold == expected


@pytest.mark.parametrize("value", [-1, "-0.01", -0.5])
def test_threshold_must_not_be_negative(value: object) -> None:
    with pytest.raises(PluginSettingsError, match="threshold must be zero or more"):
        validate_settings({"threshold": value})


@pytest.mark.parametrize("value", [
    "ten thousand", "", "1,000", "NaN", "Infinity", "sNaN", float("nan"), float("inf"),
    True, False, [1000], {"amount": 1000},
])
def test_threshold_must_be_a_number(value: object) -> None:
    with pytest.raises(PluginSettingsError, match="threshold must be a number"):
        validate_settings({"threshold": value})


@pytest.mark.parametrize("role", list(Role))
def test_role_accepts_every_role(role: Role) -> None:
    assert parse_settings({"role": role.value}).role is role


@pytest.mark.parametrize("value", ["finance", "CFO", "", 1, True])
def test_role_must_name_a_role(value: object) -> None:
    with pytest.raises(PluginSettingsError, match=r"role must be one of .*FINANCE"):
        validate_settings({"role": value})


def test_unknown_settings_are_refused_naming_the_known_ones() -> None:
    with pytest.raises(PluginSettingsError, match=r"'limit'.*threshold and role"):
        validate_settings({"limit": 5000})


def test_settings_must_be_an_object() -> None:
    with pytest.raises(PluginSettingsError, match="must be an object"):
        validate_settings("FINANCE")  # type: ignore[arg-type]


def test_good_settings_are_accepted() -> None:
    validate_settings({"threshold": "25000.00", "role": "FINANCE"})  # no error


def test_evaluate_refuses_bad_settings_too() -> None:
    with pytest.raises(PluginSettingsError):
        judge(ballot("10"), threshold="-5")


# --- the cost ------------------------------------------------------------------


def test_unknown_cost_is_pending() -> None:
    verdict = judge(ballot(None, [(FIONA, Decision.APPROVE)]), threshold="10000")
    assert verdict.status is PENDING
    assert verdict.explanation.startswith("Record the estimated cost of Data platform")


def test_cost_within_the_threshold_needs_no_sign_off() -> None:
    verdict = judge(ballot("9999.99"), threshold="10000")
    assert verdict == Verdict(
        APPROVED, "The estimated cost 9999.99 is within the threshold of 10000, no sign-off "
                  "needed.")


def test_cost_exactly_at_the_threshold_needs_no_sign_off() -> None:
    assert judge(ballot("10000.00"), threshold="10000").status is APPROVED
    assert judge(ballot("10000"), threshold=10000).status is APPROVED
    assert judge(ballot("0.1"), threshold=0.1).status is APPROVED


def test_cost_just_above_the_threshold_needs_sign_off() -> None:
    verdict = judge(ballot("10000.01"), threshold="10000")
    assert verdict.status is PENDING
    assert verdict.explanation.startswith(
        "The estimated cost 10000.01 is above the threshold of 10000")


def test_by_default_every_cost_above_zero_needs_sign_off() -> None:
    assert judge(ballot("0")).status is APPROVED
    assert judge(ballot("0.01")).status is PENDING


# --- the sign-off ----------------------------------------------------------------


def test_finance_approval_signs_off() -> None:
    verdict = judge(ballot("50000", [(FIONA, Decision.APPROVE)]))
    assert verdict == Verdict(
        APPROVED, "The estimated cost 50000 is above the threshold of 0; Fiona Finch "
                  "(FINANCE) signed off.")


def test_one_finance_approval_is_enough_even_if_another_rejects() -> None:
    verdict = judge(ballot("50000", [(FRANK, Decision.REJECT), (FIONA, Decision.APPROVE)]))
    assert verdict.status is APPROVED
    assert "Fiona Finch (FINANCE) signed off" in verdict.explanation


def test_approvals_without_the_role_do_not_sign_off() -> None:
    votes = [(PAUL, Decision.APPROVE), (DORA, Decision.APPROVE)]
    verdict = judge(ballot("50000", votes))
    assert verdict.status is PENDING
    assert verdict.explanation.endswith("waiting for Fiona Finch or Frank Fox.")


def test_nobody_holding_the_role_is_pending() -> None:
    verdict = judge(ballot("50000", [(PAUL, Decision.APPROVE)], decision_makers=(PAUL, DORA)))
    assert verdict.status is PENDING
    assert "no decision maker holds the FINANCE role, so nobody can sign off" in (
        verdict.explanation)


def test_the_only_holder_rejecting_rejects() -> None:
    verdict = judge(ballot("50000", [(FIONA, Decision.REJECT)], decision_makers=(FIONA, DORA)))
    assert verdict == Verdict(
        REJECTED, "The estimated cost 50000 is above the threshold of 0; the only FINANCE "
                  "decision maker (Fiona Finch) rejected.")


def test_every_holder_rejecting_rejects() -> None:
    votes = [(FIONA, Decision.REJECT), (FRANK, Decision.REJECT), (PAUL, Decision.APPROVE)]
    verdict = judge(ballot("50000", votes))
    assert verdict.status is REJECTED
    assert "all 2 FINANCE decision makers (Fiona Finch and Frank Fox) rejected" in (
        verdict.explanation)


def test_some_holders_rejecting_waits_for_the_others() -> None:
    verdict = judge(ballot("50000", [(FIONA, Decision.REJECT)]))
    assert verdict.status is PENDING
    assert verdict.explanation.endswith("waiting for Frank Fox.")


def test_holder_abstaining_is_neither_sign_off_nor_rejection() -> None:
    votes = [(FIONA, Decision.REJECT), (FRANK, Decision.ABSTAIN)]
    verdict = judge(ballot("50000", votes))
    assert verdict.status is PENDING
    assert verdict.explanation.endswith("waiting for Frank Fox.")


def test_configured_role_signs_off_instead_of_finance() -> None:
    settings = {"threshold": "1000", "role": "PORTFOLIO_MANAGER"}
    assert judge(ballot("5000", [(FIONA, Decision.APPROVE)]), **settings).status is PENDING
    assert judge(ballot("5000", [(PAUL, Decision.APPROVE)]), **settings).status is APPROVED
    assert judge(ballot("5000", [(PAUL, Decision.REJECT)]), **settings).status is REJECTED


# --- registration ----------------------------------------------------------------


def test_registers_one_rule_with_its_validator() -> None:
    rules = spm_approval_rules()
    assert [rule.name for rule in rules] == [RULE_NAME] == ["finance_approval"]
    rule = rules[0]
    assert isinstance(rule, ApprovalRule)
    assert rule.evaluate is evaluate
    assert rule.validate_settings is validate_settings


def test_the_module_is_a_valid_plugin() -> None:
    from spm_api.plugins import hookspecs

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(spm_finance_approval, name="finance_approval")
    manager.check_pending()
    rules = [rule for result in manager.hook.spm_approval_rules() for rule in result]
    assert [rule.name for rule in rules] == ["finance_approval"]


def test_installed_under_the_spm_api_entry_point_group() -> None:
    (entry_point,) = entry_points(group="spm_api", name="finance_approval")
    assert entry_point.load() is spm_finance_approval


def test_the_host_loads_validates_and_evaluates_it() -> None:
    from spm_api.plugins.host import PluginHost
    from spm_api.vocabulary.errors import DomainError, ErrorCode

    host = PluginHost.load(frozenset({"finance_approval"}))
    try:
        assert host.registry(APPROVAL_RULES)["finance_approval"].plugin == "finance_approval"
        host.validate_settings("finance_approval", {"threshold": "25000"})
        with pytest.raises(DomainError) as refused:
            host.validate_settings("finance_approval", {"role": "CFO"})
        assert refused.value.problems[0].code is ErrorCode.VALIDATION
        assert "role must be one of" in refused.value.problems[0].message
        verdict = asyncio.run(host.call(EVALUATE,
            "finance_approval", ballot("50000", [(FIONA, Decision.APPROVE)]), {}))
        assert verdict.status is APPROVED
    finally:
        host.close()
