"""Organisations are sealed from each other: nothing of one is visible or changeable by another."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from strawberry.relay import to_base64

from spm_api.vocabulary.enums import Role
from tests.support import (
    ADD_INPUT,
    ADD_REQUIREMENT,
    ASSESS_REQUIREMENT,
    CREATE_SERVICE,
    TRANSITION,
    UPDATE_SERVICE,
    GraphQLClient,
    Org,
    Portfolio,
)
from tests.test_finance_api import Books
from tests.test_market import (
    LINK,
    PRICE,
    SUBSCRIBE,
    UNSUBSCRIBE,
    UPDATE_NEED,
    UPDATE_OFFERING,
    UPDATE_SEGMENT,
    UPDATE_SPACE,
    Market,
)

EVERYTHING = """
query($id: ID!) {
  service(id: $id) {
    name summary stage version owner { id }
    requirements { id text necessity judgementReason }
    stakeholderInputs { id comment }
    stageChanges { id toStage }
  }
}"""


@dataclass
class Theirs:
    """Globex's service in ANALYSIS, with the ids of everything hanging off it."""

    org: Org
    service_id: str
    requirement_ids: list[str]
    input_id: str
    stage_change_ids: list[str]
    person_id: str
    organisation_id: str
    before: dict[str, Any]


async def snapshot(api: GraphQLClient, org: Org, service_id: str) -> dict[str, Any]:
    data = await api.data(EVERYTHING, {"id": service_id}, org.token(Role.VIEWER))
    service: dict[str, Any] = data["service"]
    return service


@pytest.fixture
async def theirs(api: GraphQLClient, other_org: Org) -> Theirs:
    globex = Portfolio(api, other_org)
    service_id, requirement_ids = await globex.in_analysis("Globex Payroll")
    await globex.add_input(service_id)
    before = await snapshot(api, other_org, service_id)
    viewer = await api.data("{ viewer { id organisation { id } } }",
                            token=other_org.token(Role.CONTRIBUTOR))
    return Theirs(
        org=other_org,
        service_id=service_id,
        requirement_ids=requirement_ids,
        input_id=before["stakeholderInputs"][0]["id"],
        stage_change_ids=[change["id"] for change in before["stageChanges"]],
        person_id=viewer["viewer"]["id"],
        organisation_id=viewer["viewer"]["organisation"]["id"],
        before=before,
    )


async def test_their_service_is_invisible(api: GraphQLClient, org: Org, theirs: Theirs) -> None:
    for role in (Role.VIEWER, Role.ADMIN):
        data = await api.data(EVERYTHING, {"id": theirs.service_id}, org.token(role))
        assert data == {"service": None}


async def test_their_nodes_are_null(api: GraphQLClient, org: Org, theirs: Theirs) -> None:
    ids = [theirs.service_id, *theirs.requirement_ids, theirs.input_id,
           *theirs.stage_change_ids, theirs.person_id, theirs.organisation_id]
    for node_id in ids:
        body = await api.execute("query($id: ID!) { node(id: $id) { __typename id } }",
                                 {"id": node_id}, org.token(Role.ADMIN))
        assert body == {"data": {"node": None}}, node_id
    # The same ids are visible to their own organisation, so the nulls above are not bogus ids.
    for node_id in ids:
        data = await api.data("query($id: ID!) { node(id: $id) { id } }", {"id": node_id},
                              theirs.org.token(Role.VIEWER))
        assert data["node"] == {"id": node_id}


async def test_lists_and_counts_hold_only_our_services(
    api: GraphQLClient, org: Org, portfolio: Portfolio, theirs: Theirs
) -> None:
    await Portfolio(api, theirs.org).create("Globex Hosting")
    await portfolio.create("Acme Desk")
    ours = await api.data("""{
      services { totalCount edges { node { name } } }
      portfolio { total byStage { stage count } }
    }""", token=org.token(Role.VIEWER))
    assert ours["services"]["totalCount"] == 1
    assert ours["services"]["edges"] == [{"node": {"name": "Acme Desk"}}]
    assert ours["portfolio"]["total"] == 1
    by_stage = {row["stage"]: row["count"] for row in ours["portfolio"]["byStage"]}
    assert by_stage["DEFINITION"] == 1
    assert by_stage["ANALYSIS"] == 0
    searched = await api.data('{ services(filter: {search: "globex"}) { totalCount } }',
                              token=org.token(Role.VIEWER))
    assert searched["services"]["totalCount"] == 0
    theirs_listed = await api.data("{ services { totalCount } portfolio { total } }",
                                   token=theirs.org.token(Role.VIEWER))
    assert theirs_listed == {"services": {"totalCount": 2}, "portfolio": {"total": 2}}


def foreign_mutations(theirs: Theirs) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        "updateService": (UPDATE_SERVICE, {
            "serviceId": theirs.service_id, "name": "Hijacked", "summary": "mine"}),
        "addRequirement": (ADD_REQUIREMENT, {
            "serviceId": theirs.service_id, "text": "planted"}),
        "assessRequirement": (ASSESS_REQUIREMENT, {
            "requirementId": theirs.requirement_ids[0], "necessity": "NOT_NECESSARY",
            "reason": "because"}),
        "addStakeholderInput": (ADD_INPUT, {
            "serviceId": theirs.service_id, "position": "OPPOSE", "comment": "planted"}),
        "transitionService": (TRANSITION, {
            "serviceId": theirs.service_id, "to": "DEFINITION", "reason": "sabotage"}),
    }


@pytest.mark.parametrize("mutation", ["updateService", "addRequirement", "assessRequirement",
                                      "addStakeholderInput", "transitionService"])
async def test_mutations_on_their_ids_are_not_found(
    api: GraphQLClient, org: Org, theirs: Theirs, mutation: str
) -> None:
    query, variables = foreign_mutations(theirs)[mutation]
    data = await api.data(query, {"input": variables}, org.token(Role.ADMIN))
    payload = data[mutation]
    assert [error["code"] for error in payload["errors"]] == ["NOT_FOUND"]
    assert all(value is None for key, value in payload.items() if key != "errors")
    assert await snapshot(api, theirs.org, theirs.service_id) == theirs.before


async def test_their_person_cannot_own_our_service(
    api: GraphQLClient, org: Org, portfolio: Portfolio, theirs: Theirs
) -> None:
    data = await api.data(CREATE_SERVICE, {"input": {
        "name": "Shadow IT", "investmentCategory": "RUN", "ownerId": theirs.person_id}},
        org.token(Role.CONTRIBUTOR))
    payload = data["createService"]
    assert payload["service"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "ownerId")]
    for who in (org, theirs.org):
        listed = await api.data('{ services(filter: {search: "shadow"}) { totalCount } }',
                                token=who.token(Role.VIEWER))
        assert listed["services"]["totalCount"] == 0

    service = await portfolio.create("Acme Desk")
    data = await api.data(UPDATE_SERVICE, {"input": {
        "serviceId": service["id"], "ownerId": theirs.person_id}}, org.token(Role.CONTRIBUTOR))
    assert [e["code"] for e in data["updateService"]["errors"]] == ["NOT_FOUND"]
    owner = await api.data("query($id: ID!) { service(id: $id) { owner { id } version } }",
                           {"id": service["id"]}, org.token(Role.VIEWER))
    assert owner["service"] == {
        "owner": {"id": to_base64("Person", org.person_ids[Role.CONTRIBUTOR])},
        "version": service["version"],
    }


async def test_filtering_by_their_person_finds_nothing(
    api: GraphQLClient, org: Org, portfolio: Portfolio, theirs: Theirs
) -> None:
    await portfolio.create("Acme Desk")
    query = """query($ids: [ID!]) {
      services(filter: {ownerIds: $ids}) { totalCount edges { node { name } } }
    }"""
    ours = await api.data(query, {"ids": [theirs.person_id]}, org.token(Role.VIEWER))
    assert ours["services"] == {"totalCount": 0, "edges": []}
    # Their own organisation does find the service by that owner.
    theirs_found = await api.data(query, {"ids": [theirs.person_id]},
                                  theirs.org.token(Role.VIEWER))
    assert theirs_found["services"]["totalCount"] == 1


async def test_same_name_may_exist_in_both_organisations(
    portfolio: Portfolio, theirs: Theirs
) -> None:
    service = await portfolio.create("Globex Payroll")
    assert service["name"] == "Globex Payroll"


async def test_viewer_is_in_their_own_organisation(
    api: GraphQLClient, org: Org, other_org: Org
) -> None:
    for who in (org, other_org):
        data = await api.data("{ viewer { organisation { slug } } }",
                              token=who.token(Role.VIEWER))
        assert data["viewer"]["organisation"]["slug"] == who.slug


MARKET_READS = """{ marketSpaces { id } marketSegments { id } customerNeeds { id }
  unmetNeeds { id } offerings { id } catalogue { id } customers { id } }"""


async def test_their_market_is_invisible_and_untouchable(
    api: GraphQLClient, org: Org, portfolio: Portfolio, other_org: Org
) -> None:
    globex = Market(api, other_org)
    space = await globex.space("Globex space")
    segment = await globex.segment(space, "Globex segment")
    customer = await Books(api, other_org).customer("Globex Sales")
    need = await globex.need("Globex outcome", 4, customerId=customer)
    service = await Portfolio(api, other_org).live("Globex Hosting")
    offering = (await globex.offering("Globex plan", segment, [service]))["id"]
    subscription = (await globex.ok(SUBSCRIBE, {
        "customerId": customer, "offeringId": offering, "startPeriod": "2026-01"})
    )["subscription"]["id"]
    theirs_before = await globex.read(MARKET_READS)
    assert all(len(rows) == 1 for rows in theirs_before.values()), theirs_before

    ours = await api.data(MARKET_READS, token=org.token(Role.ADMIN))
    assert all(rows == [] for rows in ours.values()), ours
    for node_id in (space, segment, need, offering, subscription, customer):
        body = await api.execute("query($id: ID!) { node(id: $id) { id } }", {"id": node_id},
                                 org.token(Role.ADMIN))
        assert body == {"data": {"node": None}}, node_id

    ours_market = Market(api, org)
    our_customer = await Books(api, org).customer("Acme Sales")
    our_service = (await portfolio.create("Acme Desk"))["id"]
    attempts: list[tuple[str, dict[str, Any], str]] = [
        (UPDATE_SPACE, {"marketSpaceId": space, "name": "Mine"}, "marketSpaceId"),
        (UPDATE_SEGMENT, {"segmentId": segment, "name": "Mine"}, "segmentId"),
        (UPDATE_NEED, {"needId": need, "importance": 1}, "needId"),
        (LINK, {"needId": need, "serviceId": our_service}, "needId"),
        (UPDATE_OFFERING, {"offeringId": offering, "name": "Mine"}, "offeringId"),
        (PRICE, {"offeringId": offering, "model": "none"}, "offeringId"),
        (SUBSCRIBE, {"customerId": our_customer, "offeringId": offering,
                     "startPeriod": "2026-05"}, "offeringId"),
        (UNSUBSCRIBE, {"subscriptionId": subscription, "endPeriod": "2026-02"},
         "subscriptionId"),
    ]
    for query, variables, field in attempts:
        payload = await ours_market.call(query, variables, Role.ADMIN)
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [
            ("NOT_FOUND", field)], (query, payload)
    assert await globex.read(MARKET_READS) == theirs_before
