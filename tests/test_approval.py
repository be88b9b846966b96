"""Approval by the decision makers: the built-in majority rule, votes and their
replacement, who may vote and when, rejection, chartering, and the organisation's
choice of rules — including the two example plugins, loaded through their entry points."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.app import create_app
from spm_api.models import Vote
from spm_api.plugins.contracts import APPROVAL_RULES
from spm_api.plugins.host import PluginHost
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from tests.support import (
    GraphQLClient,
    Org,
    Portfolio,
    add_decision_makers,
    add_people,
    serve_api,
)

#: Run a third time through PgBouncer in transaction mode (tests/conftest.py).
pytestmark = pytest.mark.pgbouncer

SET_RULES = """
mutation($rules: [String!]!) {
  setApprovalRules(input: {rules: $rules}) { rules errors { code field message } }
}"""

CONFIGURE = """
mutation($plugin: String!, $settings: JSON!) {
  configurePlugin(input: {plugin: $plugin, settings: $settings}) {
    plugin settings errors { code field message }
  }
}"""

# (decision makers, votes in order, the round's status after the last vote)
MAJORITY_CASES = [
    (1, ["APPROVE"], "APPROVED"),
    (1, ["ABSTAIN"], "PENDING"),
    (1, ["REJECT"], "REJECTED"),
    (2, ["APPROVE"], "PENDING"),
    (2, ["APPROVE", "APPROVE"], "APPROVED"),
    (2, ["APPROVE", "REJECT"], "PENDING"),
    (2, ["REJECT", "REJECT"], "REJECTED"),
    (3, ["APPROVE", "APPROVE"], "APPROVED"),
    (3, ["APPROVE", "REJECT"], "PENDING"),
    (3, ["APPROVE", "ABSTAIN", "ABSTAIN"], "PENDING"),
    (3, ["APPROVE", "REJECT", "REJECT"], "REJECTED"),
    (4, ["APPROVE", "APPROVE"], "PENDING"),
    (4, ["APPROVE", "APPROVE", "REJECT", "REJECT"], "PENDING"),
    (4, ["APPROVE", "APPROVE", "ABSTAIN", "APPROVE"], "APPROVED"),
    (4, ["REJECT", "REJECT", "REJECT"], "REJECTED"),
    (5, ["APPROVE", "APPROVE"], "PENDING"),
    (5, ["APPROVE", "APPROVE", "REJECT", "REJECT", "ABSTAIN"], "PENDING"),
    (5, ["APPROVE", "APPROVE", "APPROVE"], "APPROVED"),
    (5, ["REJECT", "APPROVE", "REJECT", "REJECT"], "REJECTED"),
]


@pytest.mark.parametrize(("deciders", "votes", "expected"), MAJORITY_CASES)
async def test_majority_of_all_decision_makers(
    portfolio: Portfolio, org: Org, db: AsyncEngine, deciders: int, votes: list[str],
    expected: str,
) -> None:
    tokens = await add_decision_makers(db, org, deciders)
    service_id = await portfolio.in_approval()
    for token, decision in zip(tokens, votes, strict=False):
        payload = await portfolio.vote(service_id, decision, token)
        assert payload["errors"] == []
    assert payload["approval"]["status"] == expected
    assert payload["approval"]["decisionMakerCount"] == deciders
    read = await portfolio.approval(service_id)
    assert read["approval"]["status"] == expected
    assert len(read["approval"]["votes"]) == len(votes)
    [verdict] = read["approval"]["verdicts"]
    assert verdict["rule"] == "majority" and verdict["status"] == expected
    assert f"of {deciders} decision makers" in verdict["explanation"]
    assert read["stage"] == ("REJECTED" if expected == "REJECTED" else "APPROVAL")


async def test_a_later_vote_replaces_the_earlier_and_both_stay_in_history(
    portfolio: Portfolio, org: Org, db: AsyncEngine
) -> None:
    first, second, _third = await add_decision_makers(db, org, 3)
    service_id = await portfolio.in_approval()
    await portfolio.vote(service_id, "REJECT", first, "too expensive")
    await portfolio.vote(service_id, "APPROVE", second)
    changed = await portfolio.vote(service_id, "APPROVE", first, "cheaper option agreed")
    assert changed["approval"]["status"] == "APPROVED"
    read = (await portfolio.approval(service_id))["approval"]
    assert [v["decision"] for v in read["votes"]] == ["APPROVE", "APPROVE"]
    assert [v["comment"] for v in read["votes"]] == ["", "cheaper option agreed"]
    assert [v["decision"] for v in read["voteHistory"]] == ["REJECT", "APPROVE", "APPROVE"]


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.DECISION_MAKER])
async def test_only_decision_makers_vote(portfolio: Portfolio, org: Org, db: AsyncEngine,
                                         role: Role) -> None:
    service_id = await portfolio.in_approval()
    refused = await portfolio.vote(service_id, "APPROVE", org.token(role))
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert refused["vote"] is None
    async with db.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(Vote)) == 0


async def test_votes_are_cast_only_in_approval(portfolio: Portfolio, org: Org) -> None:
    service_id, _ = await portfolio.in_analysis()
    early = await portfolio.vote(service_id, "APPROVE", org.token(Role.DECISION_MAKER))
    assert [(e["code"], e["field"]) for e in early["errors"]] == [("STAGE_LOCKED", "serviceId")]
    assert "ANALYSIS" in early["errors"][0]["message"]
    chartered = await portfolio.chartered("Hosting")
    late = await portfolio.vote(chartered, "REJECT", org.token(Role.DECISION_MAKER))
    assert [e["code"] for e in late["errors"]] == ["STAGE_LOCKED"]
    assert (await portfolio.approval(chartered))["approval"]["status"] == "APPROVED"


async def test_a_rejecting_majority_rejects_the_service(portfolio: Portfolio, org: Org,
                                                        db: AsyncEngine) -> None:
    first, second, third = await add_decision_makers(db, org, 3)
    service_id = await portfolio.in_approval()
    await portfolio.vote(service_id, "REJECT", first)
    decided = await portfolio.vote(service_id, "REJECT", second, "duplicates Hosting")
    assert decided["errors"] == []
    assert decided["service"]["stage"] == "REJECTED"
    change = decided["stageChange"]
    assert (change["fromStage"], change["toStage"]) == ("APPROVAL", "REJECTED")
    assert "majority" in change["reason"]
    read = await portfolio.approval(service_id)
    assert read["stage"] == "REJECTED"
    assert read["approval"]["status"] == "REJECTED"
    assert read["approval"]["closedAt"] is not None
    after = await portfolio.vote(service_id, "APPROVE", third)
    assert [e["code"] for e in after["errors"]] == ["STAGE_LOCKED"]


async def test_charter_only_when_the_round_approves(portfolio: Portfolio, org: Org,
                                                   db: AsyncEngine) -> None:
    first, second, _third = await add_decision_makers(db, org, 3)
    service_id = await portfolio.in_approval()
    await portfolio.vote(service_id, "APPROVE", first)
    early = await portfolio.transition(service_id, "CHARTERED", "go")
    assert [e["code"] for e in early["errors"]] == ["APPROVAL_REQUIRED"]
    assert "PENDING" in early["errors"][0]["message"]
    assert "1 of 3 decision makers approve" in early["errors"][0]["message"]
    not_rejected = await portfolio.transition(service_id, "REJECTED", "no")
    assert [e["code"] for e in not_rejected["errors"]] == ["APPROVAL_REQUIRED"]

    await portfolio.vote(service_id, "APPROVE", second)
    refused = await portfolio.transition(service_id, "CHARTERED", "go",
                                         role=Role.DECISION_MAKER)
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    chartered = await portfolio.transition(service_id, "CHARTERED", "approved")
    assert chartered["errors"] == []
    assert chartered["service"]["stage"] == "CHARTERED"
    frozen = (await portfolio.approval(service_id))["approval"]
    assert frozen["status"] == "APPROVED" and frozen["closedAt"] is not None


async def test_a_closed_round_keeps_its_verdicts(portfolio: Portfolio, org: Org,
                                                 db: AsyncEngine) -> None:
    """More decision makers later do not reopen what was decided at chartering."""
    service_id = await portfolio.chartered()
    await add_decision_makers(db, org, 5)
    approval = (await portfolio.approval(service_id))["approval"]
    assert approval["status"] == "APPROVED"
    assert "1 of 1 decision makers approve" in approval["verdicts"][0]["explanation"]


async def test_rules_are_chosen_by_admins_from_installed_rules(api: GraphQLClient, org: Org
                                                              ) -> None:
    admin = org.token(Role.ADMIN)
    forbidden = await api.data(SET_RULES, {"rules": ["majority"]},
                               org.token(Role.PORTFOLIO_MANAGER))
    assert [e["code"] for e in forbidden["setApprovalRules"]["errors"]] == ["FORBIDDEN"]
    unknown = await api.data(SET_RULES, {"rules": ["majority", "coin_toss"]}, admin)
    [error] = unknown["setApprovalRules"]["errors"]
    assert (error["code"], error["field"]) == ("VALIDATION", "rules")
    assert "coin_toss" in error["message"] and "majority" in error["message"]
    empty = await api.data(SET_RULES, {"rules": []}, admin)
    assert [e["code"] for e in empty["setApprovalRules"]["errors"]] == ["VALIDATION"]
    chosen = await api.data(SET_RULES, {"rules": ["majority", "majority"]}, admin)
    assert chosen["setApprovalRules"] == {"rules": ["majority"], "errors": []}


async def test_plugin_settings_need_a_loaded_plugin_and_an_object(api: GraphQLClient,
                                                                  org: Org) -> None:
    admin = org.token(Role.ADMIN)
    missing = await api.data(CONFIGURE, {"plugin": "nope", "settings": {}}, admin)
    assert [e["code"] for e in missing["configurePlugin"]["errors"]] == ["NOT_FOUND"]
    not_object = await api.data(CONFIGURE, {"plugin": "spm_api.majority", "settings": [1]},
                                admin)
    assert [e["code"] for e in not_object["configurePlugin"]["errors"]] == ["VALIDATION"]
    viewer = await api.data(CONFIGURE, {"plugin": "spm_api.majority", "settings": {}},
                            org.token(Role.VIEWER))
    assert [e["code"] for e in viewer["configurePlugin"]["errors"]] == ["FORBIDDEN"]


# --- the example plugins, installed through their entry points -------------------


@pytest.fixture
async def extended(db: AsyncEngine, settings: Settings) -> AsyncIterator[GraphQLClient]:
    """A server that loads the example plugins the way production does: by entry point."""
    host = PluginHost.load(frozenset({"supermajority", "finance_approval"}), timeout=2.0)
    assert {"supermajority", "finance_approval"} <= set(host.registry(APPROVAL_RULES))
    try:
        async with serve_api(create_app(settings, engine=db, plugins=host)) as client:
            yield client
    finally:
        host.close()


async def test_supermajority_plugin_rejects_what_a_simple_majority_approves(
    extended: GraphQLClient, org: Org, db: AsyncEngine
) -> None:
    portfolio = Portfolio(extended, org)
    first, second, third = await add_decision_makers(db, org, 3)
    simple = await portfolio.in_approval("Simple")
    for token, decision in ((first, "APPROVE"), (second, "APPROVE"), (third, "REJECT")):
        payload = await portfolio.vote(simple, decision, token)
    assert payload["approval"]["status"] == "APPROVED"

    admin = org.token(Role.ADMIN)
    configured = await extended.data(CONFIGURE, {"plugin": "supermajority",
                                                 "settings": {"threshold": "3/4"}}, admin)
    assert configured["configurePlugin"]["errors"] == []
    chosen = await extended.data(SET_RULES, {"rules": ["supermajority"]}, admin)
    assert chosen["setApprovalRules"]["errors"] == []
    strict = await portfolio.in_approval("Strict")
    for token, decision in ((first, "APPROVE"), (second, "APPROVE"), (third, "REJECT")):
        payload = await portfolio.vote(strict, decision, token)
    assert payload["approval"]["status"] == "REJECTED"
    assert payload["service"]["stage"] == "REJECTED"
    assert payload["approval"]["verdicts"][0]["rule"] == "supermajority"


async def test_supermajority_plugin_settings_are_validated(extended: GraphQLClient, org: Org
                                                           ) -> None:
    refused = await extended.data(CONFIGURE, {"plugin": "supermajority",
                                              "settings": {"threshold": "1/3"}},
                                  org.token(Role.ADMIN))
    [error] = refused["configurePlugin"]["errors"]
    assert (error["code"], error["field"]) == ("VALIDATION", "settings")
    assert "supermajority" in error["message"]


async def test_veto_role_of_the_supermajority_plugin(extended: GraphQLClient, org: Org,
                                                     db: AsyncEngine) -> None:
    portfolio = Portfolio(extended, org)
    tokens = await add_decision_makers(db, org, 4)
    [cfo] = await add_people(db, org, 1, [Role.DECISION_MAKER, Role.FINANCE], "cfo")
    admin = org.token(Role.ADMIN)
    await extended.data(CONFIGURE, {"plugin": "supermajority",
                                    "settings": {"veto_role": "FINANCE"}}, admin)
    await extended.data(SET_RULES, {"rules": ["majority", "supermajority"]}, admin)
    service_id = await portfolio.in_approval()
    for token in tokens[:3]:
        await portfolio.vote(service_id, "APPROVE", token)
    vetoed = await portfolio.vote(service_id, "REJECT", cfo, "not in this year's budget")
    assert vetoed["approval"]["status"] == "REJECTED"
    verdicts = {v["rule"]: v["status"] for v in vetoed["approval"]["verdicts"]}
    assert verdicts == {"majority": "APPROVED", "supermajority": "REJECTED"}
    assert vetoed["service"]["stage"] == "REJECTED"


async def test_finance_plugin_needs_finance_sign_off_above_the_threshold(
    extended: GraphQLClient, org: Org, db: AsyncEngine
) -> None:
    portfolio = Portfolio(extended, org)
    first, second = await add_decision_makers(db, org, 2)
    [cfo] = await add_people(db, org, 1, [Role.DECISION_MAKER, Role.FINANCE], "cfo")
    admin = org.token(Role.ADMIN)
    await extended.data(CONFIGURE, {"plugin": "finance_approval",
                                    "settings": {"threshold": "10000"}}, admin)
    await extended.data(SET_RULES, {"rules": ["majority", "finance_approval"]}, admin)

    cheap = await portfolio.in_approval("Cheap")
    await extended.data("""mutation($id: ID!) { updateService(input: {serviceId: $id,
        estimatedCost: {amount: "9999.99", currency: "EUR"}}) { errors { code } } }""",
        {"id": cheap},
        org.token(Role.CONTRIBUTOR))
    await portfolio.vote(cheap, "APPROVE", first)
    payload = await portfolio.vote(cheap, "APPROVE", second)
    assert payload["approval"]["status"] == "APPROVED"

    costly = await portfolio.in_approval("Costly")
    await extended.data("""mutation($id: ID!) { updateService(input: {serviceId: $id,
        estimatedCost: {amount: "50000", currency: "EUR"}}) { errors { code } } }""",
        {"id": costly},
        org.token(Role.CONTRIBUTOR))
    await portfolio.vote(costly, "APPROVE", first)
    payload = await portfolio.vote(costly, "APPROVE", second)
    assert payload["approval"]["status"] == "PENDING"
    verdicts = {v["rule"]: v["status"] for v in payload["approval"]["verdicts"]}
    assert verdicts == {"majority": "APPROVED", "finance_approval": "PENDING"}
    refused = await portfolio.transition(costly, "CHARTERED", "go")
    assert [e["code"] for e in refused["errors"]] == ["APPROVAL_REQUIRED"]
    assert "finance_approval" in refused["errors"][0]["message"]

    signed = await portfolio.vote(costly, "APPROVE", cfo, "funded from the grow budget")
    assert signed["approval"]["status"] == "APPROVED"
    chartered = await portfolio.transition(costly, "CHARTERED", "signed off")
    assert chartered["errors"] == []


async def test_everyone_can_see_the_installed_rules_and_which_apply(
    extended: GraphQLClient, org: Org
) -> None:
    query = "{ approvalRules { name plugin chosen title } }"
    before = (await extended.data(query, token=org.token(Role.VIEWER)))["approvalRules"]
    assert {r["name"]: (r["plugin"], r["chosen"]) for r in before} == {
        "finance_approval": ("finance_approval", False),
        "majority": ("spm_api.majority", True),
        "resources_check": ("spm_api.resources_check", False),
        "supermajority": ("supermajority", False),
    }
    await extended.data(SET_RULES, {"rules": ["supermajority", "finance_approval"]},
                        org.token(Role.ADMIN))
    after = (await extended.data(query, token=org.token(Role.VIEWER)))["approvalRules"]
    assert sorted(r["name"] for r in after if r["chosen"]) == ["finance_approval",
                                                               "supermajority"]
