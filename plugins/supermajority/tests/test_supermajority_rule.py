"""Unit tests of the supermajority rule: plain Ballot objects in, Verdicts out, no
database. Run with ``pytest plugins/supermajority``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from importlib.metadata import entry_points
from typing import Any

import pluggy
import pytest
import spm_supermajority
from spm_supermajority import (
    RULE_NAME,
    SupermajoritySettings,
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

SERVICE = ServiceFacts(id=1, organisation_id=1, name="Data platform",
                       investment_category=InvestmentCategory.GROW,
                       estimated_cost=Decimal("120000.00"))
AT = datetime(2025, 1, 1, tzinfo=UTC)


def voter(person_id: int, name: str | None = None, *extra: Role) -> Voter:
    return Voter(person_id=person_id, name=name or f"Person {person_id}",
                 roles=frozenset({Role.DECISION_MAKER, *extra}))


def ballot(decision_makers: Iterable[Voter],
           decisions: Iterable[tuple[Voter, Decision]] = ()) -> Ballot:
    return Ballot(
        service=SERVICE,
        decision_makers=tuple(decision_makers),
        votes=tuple(CastVote(voter=who, decision=decision, comment="", cast_at=AT)
                    for who, decision in decisions),
    )


def tally(eligible: int, approve: int = 0, reject: int = 0, abstain: int = 0) -> Ballot:
    """``eligible`` decision makers; the first ones approve, then reject, then abstain,
    and the rest have not voted."""
    assert approve + reject + abstain <= eligible
    people = [voter(number) for number in range(1, eligible + 1)]
    decisions = ([Decision.APPROVE] * approve + [Decision.REJECT] * reject
                 + [Decision.ABSTAIN] * abstain)
    return ballot(people, zip(people, decisions, strict=False))


def judge(the_ballot: Ballot, **settings: Any) -> Verdict:
    return evaluate(the_ballot, settings)


# --- settings --------------------------------------------------------------------


def test_defaults_when_nothing_is_set() -> None:
    assert parse_settings({}) == SupermajoritySettings(
        threshold=Fraction(2, 3), quorum=Fraction(1, 2), veto_role=None)


def test_null_values_mean_the_default() -> None:
    assert parse_settings({"threshold": None, "quorum": None, "veto_role": None}) == (
        SupermajoritySettings())


@pytest.mark.parametrize(("value", "expected"), [
    ("2/3", Fraction(2, 3)),
    (" 3/4 ", Fraction(3, 4)),
    ("0.75", Fraction(3, 4)),
    (0.75, Fraction(3, 4)),
    (0.7, Fraction(7, 10)),  # exactly 7/10, not the nearest binary float
    (1, Fraction(1)),
    ("1", Fraction(1)),
    ("1.0", Fraction(1)),
    ("0.51", Fraction(51, 100)),
])
def test_threshold_accepts_numbers_decimals_and_fractions(value: object,
                                                          expected: Fraction) -> None:
    assert parse_settings({"threshold": value}).threshold == expected


@pytest.mark.parametrize("value", ["1/2", 0.5, "0.5", "0.4", 0, -1, "3/2", 1.01, 2])
def test_threshold_must_be_a_supermajority(value: object) -> None:
    with pytest.raises(PluginSettingsError, match="threshold must be more than 1/2 and at most 1"):
        validate_settings({"threshold": value})


@pytest.mark.parametrize("value", [
    "two thirds", "", "2/0", "nan", "inf", "66%", float("nan"), float("inf"), True, False,
    [2, 3], {"num": 2},
])
def test_threshold_must_be_a_number(value: object) -> None:
    with pytest.raises(PluginSettingsError, match="threshold must be a number"):
        validate_settings({"threshold": value})


@pytest.mark.parametrize(("value", "expected"), [
    ("1", Fraction(1)), (1, Fraction(1)), ("1/3", Fraction(1, 3)), (0.01, Fraction(1, 100)),
    ("0.6", Fraction(3, 5)),
])
def test_quorum_accepts_shares(value: object, expected: Fraction) -> None:
    assert parse_settings({"quorum": value}).quorum == expected


@pytest.mark.parametrize("value", [0, "0", "0.0", -0.5, "5/4", 1.5])
def test_quorum_must_be_above_zero_and_at_most_one(value: object) -> None:
    with pytest.raises(PluginSettingsError, match="quorum must be more than 0 and at most 1"):
        validate_settings({"quorum": value})


@pytest.mark.parametrize("value", ["half", True, [1, 2]])
def test_quorum_must_be_a_number(value: object) -> None:
    with pytest.raises(PluginSettingsError, match="quorum must be a number"):
        validate_settings({"quorum": value})


@pytest.mark.parametrize("role", list(Role))
def test_veto_role_accepts_every_role(role: Role) -> None:
    assert parse_settings({"veto_role": role.value}).veto_role is role


@pytest.mark.parametrize("value", ["finance", "CFO", "", 3, True, ["FINANCE"]])
def test_veto_role_must_name_a_role(value: object) -> None:
    with pytest.raises(PluginSettingsError, match=r"veto_role must be one of .*FINANCE"):
        validate_settings({"veto_role": value})


def test_unknown_settings_are_refused_naming_the_known_ones() -> None:
    # camelCase is the likeliest typo: GraphQL input fields are camelCase, settings keys not.
    with pytest.raises(PluginSettingsError, match=r"'vetoRole'.*threshold, quorum and veto_role"):
        validate_settings({"vetoRole": "FINANCE"})


def test_settings_must_be_an_object() -> None:
    with pytest.raises(PluginSettingsError, match="must be an object"):
        validate_settings(["threshold", "2/3"])  # type: ignore[arg-type]


def test_good_settings_are_accepted() -> None:
    validate_settings({"threshold": "3/4", "quorum": "2/3", "veto_role": "FINANCE"})  # no error


def test_evaluate_refuses_bad_settings_too() -> None:
    with pytest.raises(PluginSettingsError):
        judge(tally(3, approve=3), threshold="1/3")


# --- no decision makers and quorum -----------------------------------------------


def test_no_decision_makers_is_pending() -> None:
    verdict = judge(ballot([]))
    assert verdict.status is PENDING
    assert "no decision makers" in verdict.explanation


def test_nobody_voted_is_pending_for_quorum() -> None:
    verdict = judge(tally(4))
    assert verdict == Verdict(
        PENDING, "0 of 4 decision makers voted, quorum needs 2 (1/2 of them).")


def test_below_quorum_is_pending_even_when_every_vote_approves() -> None:
    verdict = judge(tally(6, approve=2))
    assert verdict.status is PENDING
    assert verdict.explanation.startswith("2 of 6 decision makers voted, quorum needs 3")


def test_quorum_exactly_reached_decides() -> None:
    assert judge(tally(6, approve=3)).status is APPROVED


def test_quorum_rounds_up_to_whole_people() -> None:
    # Half of 5 is 2.5, so 3 must vote.
    assert judge(tally(5, approve=2)).status is PENDING
    assert "quorum needs 3" in judge(tally(5, approve=2)).explanation
    assert judge(tally(5, approve=3)).status is APPROVED


def test_abstentions_count_toward_quorum() -> None:
    # 2 of 4 voted (one abstained): quorum of 1/2 reached; 1 of 1 decisive votes approves.
    verdict = judge(tally(4, approve=1, abstain=1))
    assert verdict.status is APPROVED
    assert "1 approved, 0 rejected, 1 abstained" in verdict.explanation


def test_configured_quorum() -> None:
    assert judge(tally(6, approve=3), quorum="2/3").status is PENDING
    assert judge(tally(6, approve=4), quorum="2/3").status is APPROVED
    assert judge(tally(6, approve=5), quorum=1).status is PENDING
    assert judge(tally(6, approve=6), quorum=1).status is APPROVED


def test_everyone_abstained_is_pending() -> None:
    verdict = judge(tally(4, abstain=3))
    assert verdict.status is PENDING
    assert "Everyone abstained" in verdict.explanation
    assert judge(tally(2, abstain=2)).status is PENDING


# --- the threshold ---------------------------------------------------------------


def test_exactly_at_the_threshold_approves() -> None:
    verdict = judge(tally(3, approve=2, reject=1))
    assert verdict == Verdict(
        APPROVED,
        "3 of 3 decision makers voted: 2 approved, 1 rejected, 0 abstained. 2 of 3 decisive "
        "votes approve, which meets the 2/3 threshold.")


def test_just_below_the_threshold_with_everyone_voted_rejects() -> None:
    verdict = judge(tally(3, approve=2, reject=1), threshold="3/4")
    assert verdict.status is REJECTED
    assert "2 of 3 decisive votes approve, short of the 3/4 threshold, and everyone has voted" in (
        verdict.explanation)


def test_abstentions_are_not_decisive() -> None:
    # 2 approve, 1 rejects, 2 abstain: 2 of 3 decisive votes approve, which meets 2/3.
    assert judge(tally(5, approve=2, reject=1, abstain=2)).status is APPROVED


def test_tie_with_everyone_voted_rejects() -> None:
    verdict = judge(tally(4, approve=2, reject=2))
    assert verdict.status is REJECTED
    assert "2 of 4 decisive votes approve" in verdict.explanation


def test_tie_that_outstanding_votes_could_still_break_is_pending() -> None:
    # 2-2 with 2 still to vote: if both approve, 4 of 6 = 2/3 meets the threshold.
    verdict = judge(tally(6, approve=2, reject=2))
    assert verdict.status is PENDING
    assert "the 2 decision makers yet to vote can still reach it" in verdict.explanation


def test_tie_that_outstanding_votes_cannot_rescue_rejects() -> None:
    # 2-2 with 1 still to vote: at best 3 of 5, below 2/3.
    verdict = judge(tally(5, approve=2, reject=2))
    assert verdict.status is REJECTED
    assert "even if the 1 decision maker yet to vote approve" in verdict.explanation


def test_unanimity_threshold() -> None:
    assert judge(tally(4, approve=4), threshold=1).status is APPROVED
    assert judge(tally(4, approve=3), threshold=1).status is APPROVED  # quorum met, 3 of 3
    assert judge(tally(5, approve=3, reject=1), threshold=1).status is REJECTED


def test_outstanding_votes_can_rescue_a_slim_minority() -> None:
    # 1 approves, 1 rejects, 3 to vote: at best 4 of 5 ≥ 3/4 → still open.
    assert judge(tally(5, approve=1, reject=1), threshold="0.75").status is PENDING
    # 0 approve, 3 reject, 2 to vote: at best 2 of 5 < 3/4 → rejected.
    assert judge(tally(5, reject=3), threshold="0.75").status is REJECTED


def test_decimal_and_float_settings_are_exact_in_evaluation() -> None:
    # 7 of 10 meets 0.7 exactly: no float rounding may push it below.
    assert judge(tally(10, approve=7, reject=3), threshold=0.7).status is APPROVED
    assert judge(tally(10, approve=7, reject=3), threshold="0.70").status is APPROVED
    assert judge(tally(10, approve=7, reject=3), threshold="0.71").status is REJECTED


# --- the veto --------------------------------------------------------------------


ALICE = voter(1, "Alice Adams", Role.FINANCE)
BOB = voter(2, "Bob Brown")
CAROL = voter(3, "Carol Clark")
DAN = voter(4, "Dan Day", Role.FINANCE)
PEOPLE = [ALICE, BOB, CAROL, DAN]


def test_veto_rejects_outright_naming_the_vetoer() -> None:
    votes = [(ALICE, Decision.REJECT), (BOB, Decision.APPROVE), (CAROL, Decision.APPROVE),
             (DAN, Decision.APPROVE)]
    verdict = judge(ballot(PEOPLE, votes), veto_role="FINANCE")
    assert verdict == Verdict(
        REJECTED, "Alice Adams holds the FINANCE veto and rejected, which rejects the "
                  "proposal outright.")


def test_veto_does_not_wait_for_quorum() -> None:
    others = [voter(number) for number in range(10, 20)]
    verdict = judge(ballot([ALICE, *others], [(ALICE, Decision.REJECT)]), veto_role="FINANCE")
    assert verdict.status is REJECTED


def test_several_vetoes_name_everyone() -> None:
    votes = [(ALICE, Decision.REJECT), (DAN, Decision.REJECT)]
    verdict = judge(ballot(PEOPLE, votes), veto_role="FINANCE")
    assert verdict.status is REJECTED
    assert verdict.explanation.startswith("Alice Adams and Dan Day hold the FINANCE veto")


@pytest.mark.parametrize("decision", [Decision.APPROVE, Decision.ABSTAIN])
def test_veto_holder_who_does_not_reject_votes_like_anyone(decision: Decision) -> None:
    votes = [(ALICE, decision), (BOB, Decision.APPROVE), (CAROL, Decision.APPROVE)]
    assert judge(ballot(PEOPLE, votes), veto_role="FINANCE").status is APPROVED


def test_without_veto_role_a_finance_rejection_is_an_ordinary_vote() -> None:
    votes = [(ALICE, Decision.REJECT), (BOB, Decision.APPROVE), (CAROL, Decision.APPROVE)]
    # 2 of 3 decisive votes approve: meets 2/3.
    assert judge(ballot(PEOPLE, votes)).status is APPROVED


def test_veto_belongs_only_to_the_configured_role() -> None:
    votes = [(ALICE, Decision.REJECT), (BOB, Decision.APPROVE), (CAROL, Decision.APPROVE)]
    assert judge(ballot(PEOPLE, votes), veto_role="ADMIN").status is APPROVED


# --- registration ----------------------------------------------------------------


def test_registers_one_rule_with_its_validator() -> None:
    rules = spm_approval_rules()
    assert [rule.name for rule in rules] == [RULE_NAME] == ["supermajority"]
    rule = rules[0]
    assert isinstance(rule, ApprovalRule)
    assert rule.evaluate is evaluate
    assert rule.validate_settings is validate_settings


def test_the_module_is_a_valid_plugin() -> None:
    from spm_api.plugins import hookspecs

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(spm_supermajority, name="supermajority")
    manager.check_pending()
    rules = [rule for result in manager.hook.spm_approval_rules() for rule in result]
    assert [rule.name for rule in rules] == ["supermajority"]


def test_installed_under_the_spm_api_entry_point_group() -> None:
    (entry_point,) = entry_points(group="spm_api", name="supermajority")
    assert entry_point.load() is spm_supermajority


def test_the_host_loads_validates_and_evaluates_it() -> None:
    from spm_api.plugins.host import PluginHost
    from spm_api.vocabulary.errors import DomainError, ErrorCode

    host = PluginHost.load(frozenset({"supermajority"}))
    try:
        assert host.registry(APPROVAL_RULES)["supermajority"].plugin == "supermajority"
        host.validate_settings("supermajority", {"threshold": "3/4"})
        with pytest.raises(DomainError) as refused:
            host.validate_settings("supermajority", {"threshold": "1/3"})
        assert refused.value.problems[0].code is ErrorCode.VALIDATION
        assert "threshold must be more than 1/2" in refused.value.problems[0].message
        verdict = asyncio.run(host.call(EVALUATE, "supermajority", tally(3, approve=3), {}))
        assert verdict.status is APPROVED
    finally:
        host.close()
