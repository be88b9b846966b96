"""Reading the portfolio: the services connection, its filters and order, counts, nodes,
and the validation errors of the write side."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.relay import to_base64

from spm_api.models import Service
from spm_api.vocabulary.enums import Role
from spm_api.vocabulary.stages import Stage
from tests.support import (
    ADD_REQUIREMENT,
    ASSESS_REQUIREMENT,
    CREATE_SERVICE,
    UPDATE_SERVICE,
    GraphQLClient,
    Org,
    Portfolio,
)

#: Run a third time through PgBouncer in transaction mode (tests/conftest.py).
pytestmark = pytest.mark.pgbouncer

SERVICES = """
query($filter: ServiceFilter, $orderBy: ServiceOrder, $first: Int, $after: String,
      $last: Int, $before: String) {
  services(filter: $filter, orderBy: $orderBy, first: $first, after: $after,
           last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { name } }
  }
}"""


async def services(api: GraphQLClient, org: Org, **arguments: Any) -> dict[str, Any]:
    data = await api.data(SERVICES, arguments, org.token(Role.VIEWER))
    connection: dict[str, Any] = data["services"]
    return connection


def names(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["name"] for edge in connection["edges"]]


async def matching(api: GraphQLClient, org: Org, service_filter: dict[str, Any]) -> list[str]:
    """Names of every service matching the filter, checked against totalCount."""
    connection = await services(api, org, filter=service_filter, first=100)
    assert connection["totalCount"] == len(connection["edges"]), service_filter
    return sorted(names(connection))


def codes_and_fields(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(error["code"], error["field"]) for error in payload["errors"]]


# --- a small portfolio with a service in most stages -----------------------------------------

@pytest.fixture
async def catalogue(portfolio: Portfolio, org: Org, db: AsyncEngine) -> Portfolio:
    """Six services: Alpha DEFINITION, Beta ANALYSIS (owned by the portfolio manager),
    Gamma APPROVAL, Delta LIVE, Epsilon RETIRED, Zeta_Data REJECTED; nothing CHARTERED."""
    await portfolio.create("Alpha Desk", "Resolve tickets", summary="Handles INCIDENTS")
    beta = await portfolio.create(
        "Beta Hosting", "Managed VMs at 100% uptime", investmentCategory="GROW",
        ownerId=to_base64("Person", org.person_ids[Role.PORTFOLIO_MANAGER]))
    await portfolio.add_requirement(beta["id"])
    assert (await portfolio.transition(beta["id"], "ANALYSIS"))["errors"] == []
    gamma = await portfolio.create("Gamma Portal", "Self-service for customers",
                                   investmentCategory="TRANSFORM", summary="Open 24/7")
    requirement = await portfolio.add_requirement(gamma["id"])
    assert (await portfolio.transition(gamma["id"], "ANALYSIS"))["errors"] == []
    await portfolio.assess(requirement)
    await portfolio.add_input(gamma["id"])
    assert (await portfolio.transition(gamma["id"], "APPROVAL"))["errors"] == []
    # Later stages are reached through approval rounds, which the API does not offer yet.
    for name, category, stage in (("Delta Payroll", "RUN", Stage.LIVE),
                                  ("Epsilon Mail", "RUN", Stage.RETIRED),
                                  ("Zeta_Data", "TRANSFORM", Stage.REJECTED)):
        await portfolio.create(name, "Keep the lights on", investmentCategory=category)
        async with db.begin() as connection:
            await connection.execute(
                update(Service).where(Service.name == name).values(stage=stage))
    return portfolio


SIX_STAGES = {Stage.DEFINITION, Stage.ANALYSIS, Stage.APPROVAL, Stage.LIVE, Stage.RETIRED,
              Stage.REJECTED}
ALL_SIX = ["Alpha Desk", "Beta Hosting", "Delta Payroll", "Epsilon Mail", "Gamma Portal",
           "Zeta_Data"]


async def test_without_filter_every_service_is_listed(catalogue: Portfolio) -> None:
    assert await matching(catalogue.api, catalogue.org, {}) == ALL_SIX


async def test_filter_by_section(catalogue: Portfolio) -> None:
    api, org = catalogue.api, catalogue.org
    assert await matching(api, org, {"sections": ["PIPELINE"]}) == [
        "Alpha Desk", "Beta Hosting", "Gamma Portal"]
    assert await matching(api, org, {"sections": ["CATALOGUE"]}) == ["Delta Payroll"]
    # A rejected proposal never went live: it is TERMINATED, not RETIRED.
    assert await matching(api, org, {"sections": ["RETIRED"]}) == ["Epsilon Mail"]
    assert await matching(api, org, {"sections": ["TERMINATED"]}) == ["Zeta_Data"]
    assert await matching(api, org, {"sections": ["CATALOGUE", "RETIRED"]}) == [
        "Delta Payroll", "Epsilon Mail"]


async def test_filter_by_stage(catalogue: Portfolio) -> None:
    api, org = catalogue.api, catalogue.org
    assert await matching(api, org, {"stages": ["ANALYSIS", "APPROVAL"]}) == [
        "Beta Hosting", "Gamma Portal"]
    assert await matching(api, org, {"stages": ["CHARTERED"]}) == []
    assert await matching(api, org, {"stages": ["REJECTED"], "sections": ["TERMINATED"]}) == [
        "Zeta_Data"]
    assert await matching(api, org, {"stages": ["REJECTED"], "sections": ["RETIRED"]}) == []
    # A stage outside the section asked for: the two conditions cannot both hold.
    assert await matching(api, org, {"stages": ["LIVE"], "sections": ["PIPELINE"]}) == []


async def test_filter_by_investment_category(catalogue: Portfolio) -> None:
    api, org = catalogue.api, catalogue.org
    assert await matching(api, org, {"investmentCategories": ["RUN"]}) == [
        "Alpha Desk", "Delta Payroll", "Epsilon Mail"]
    assert await matching(api, org, {"investmentCategories": ["GROW", "TRANSFORM"]}) == [
        "Beta Hosting", "Gamma Portal", "Zeta_Data"]
    assert await matching(api, org, {"investmentCategories": ["TRANSFORM"],
                                     "sections": ["PIPELINE"]}) == ["Gamma Portal"]


async def test_filter_by_owner(catalogue: Portfolio) -> None:
    api, org = catalogue.api, catalogue.org
    manager = to_base64("Person", org.person_ids[Role.PORTFOLIO_MANAGER])
    contributor = to_base64("Person", org.person_ids[Role.CONTRIBUTOR])
    viewer = to_base64("Person", org.person_ids[Role.VIEWER])
    assert await matching(api, org, {"ownerIds": [manager]}) == ["Beta Hosting"]
    assert await matching(api, org, {"ownerIds": [contributor]}) == [
        name for name in ALL_SIX if name != "Beta Hosting"]
    assert await matching(api, org, {"ownerIds": [manager, contributor]}) == ALL_SIX
    assert await matching(api, org, {"ownerIds": [viewer]}) == []


@pytest.mark.parametrize(("search", "expected"), [
    ("desk", ["Alpha Desk"]),               # name, other case
    ("ALPHA d", ["Alpha Desk"]),
    ("incidents", ["Alpha Desk"]),          # summary
    ("managed vms", ["Beta Hosting"]),      # objectives
    ("  portal  ", ["Gamma Portal"]),       # surrounding blanks ignored
    ("lights", ["Delta Payroll", "Epsilon Mail", "Zeta_Data"]),
    ("no such words", []),
    ("   ", ALL_SIX),                       # a blank search is no search
], ids=["name", "name-upper", "summary", "objectives", "blanks", "several", "none", "blank"])
async def test_search(catalogue: Portfolio, search: str, expected: list[str]) -> None:
    assert await matching(catalogue.api, catalogue.org, {"search": search}) == expected


async def test_search_wildcards_are_literal(catalogue: Portfolio) -> None:
    api, org = catalogue.api, catalogue.org
    assert await matching(api, org, {"search": "%"}) == ["Beta Hosting"]
    assert await matching(api, org, {"search": "100%"}) == ["Beta Hosting"]
    assert await matching(api, org, {"search": "_"}) == ["Zeta_Data"]
    # Unescaped, "a_d" would also match "Alpha Desk" ("a d").
    assert await matching(api, org, {"search": "a_d"}) == ["Zeta_Data"]
    assert await matching(api, org, {"search": "\\"}) == []
    # "/" is the escape character SQLAlchemy picks; it must stay literal too.
    assert await matching(api, org, {"search": "4/7"}) == ["Gamma Portal"]
    assert await matching(api, org, {"search": "/"}) == ["Gamma Portal"]


async def test_search_folds_case_beyond_ascii(portfolio: Portfolio) -> None:
    await portfolio.create("École Numérique", "Équiper les salles")
    await portfolio.create("Straße Control", "")
    api, org = portfolio.api, portfolio.org
    assert await matching(api, org, {"search": "école"}) == ["École Numérique"]
    assert await matching(api, org, {"search": "ÉQUIPER"}) == ["École Numérique"]
    assert await matching(api, org, {"search": "straße"}) == ["Straße Control"]


async def test_filters_combine_with_search(catalogue: Portfolio) -> None:
    assert await matching(catalogue.api, catalogue.org, {
        "search": "lights", "sections": ["RETIRED"], "investmentCategories": ["RUN"]}) == [
        "Epsilon Mail"]


# --- pagination and order ---------------------------------------------------------------------

NAMES = [f"Service {n:02d}" for n in range(1, 8)]


@pytest.fixture
async def seven(portfolio: Portfolio) -> Portfolio:
    for name in reversed(NAMES):  # created in the opposite of name order
        await portfolio.create(name)
    return portfolio


async def test_first_after_walks_every_service_once(seven: Portfolio) -> None:
    seen: list[str] = []
    pages: list[tuple[int, bool]] = []
    after = None
    while True:
        page = await services(seven.api, seven.org, first=3, after=after)
        assert page["totalCount"] == 7
        seen += names(page)
        pages.append((len(page["edges"]), page["pageInfo"]["hasNextPage"]))
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if page["edges"]:
            assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
            assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert len(pages) < 10, "pagination does not end"
    assert seen == NAMES
    assert pages == [(3, True), (3, True), (1, False)]


async def test_exact_page_has_no_next_page(seven: Portfolio) -> None:
    page = await services(seven.api, seven.org, first=7)
    assert names(page) == NAMES
    assert page["pageInfo"]["hasNextPage"] is False
    page = await services(seven.api, seven.org, first=6)
    assert page["pageInfo"]["hasNextPage"] is True


async def test_last_before_walks_backwards(seven: Portfolio) -> None:
    page = await services(seven.api, seven.org, last=3)
    assert names(page) == NAMES[4:]
    assert page["pageInfo"]["hasPreviousPage"] is True
    assert page["pageInfo"]["hasNextPage"] is False
    seen = names(page)
    while page["pageInfo"]["hasPreviousPage"]:
        page = await services(seven.api, seven.org, last=3,
                              before=page["pageInfo"]["startCursor"])
        seen = names(page) + seen
        assert len(seen) <= 7
    assert seen == NAMES
    assert names(page) == NAMES[:1]


async def test_last_before_a_middle_cursor(seven: Portfolio) -> None:
    everything = await services(seven.api, seven.org, first=7)
    fifth = everything["edges"][4]["cursor"]
    page = await services(seven.api, seven.org, last=2, before=fifth)
    assert names(page) == NAMES[2:4]
    assert page["pageInfo"]["hasPreviousPage"] is True


async def test_pagination_respects_the_filter(seven: Portfolio) -> None:
    await seven.create("Unrelated", "other")
    first = await services(seven.api, seven.org, filter={"search": "service 0"}, first=4)
    assert first["totalCount"] == 7
    rest = await services(seven.api, seven.org, filter={"search": "service 0"}, first=4,
                          after=first["pageInfo"]["endCursor"])
    assert rest["totalCount"] == 7
    assert names(first) + names(rest) == NAMES
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_page_size_is_capped_at_100(seven: Portfolio) -> None:
    assert len((await services(seven.api, seven.org, first=100))["edges"]) == 7
    for arguments in ({"first": 101}, {"last": 500}):
        body = await seven.api.execute(SERVICES, arguments, seven.org.token(Role.VIEWER))
        assert body["errors"], body
        assert body["data"] is None
        assert "Service 0" not in str(body)


async def test_page_size_error_names_the_limit(api: GraphQLClient, org: Org) -> None:
    """Asking for too much is the client's mistake: say so, rather than 'Internal error'."""
    body = await api.execute(SERVICES, {"first": 101}, org.token(Role.VIEWER))
    error = body["errors"][0]
    assert error.get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR", error
    assert "100" in error["message"], error


@pytest.mark.parametrize(("order", "expected"), [
    (None, NAMES),
    ({"field": "NAME"}, NAMES),
    ({"field": "NAME", "direction": "DESC"}, NAMES[::-1]),
    ({"field": "CREATED_AT"}, NAMES[::-1]),
    ({"field": "CREATED_AT", "direction": "DESC"}, NAMES),
], ids=["default", "name", "name-desc", "created", "created-desc"])
async def test_order(seven: Portfolio, order: dict[str, str] | None,
                     expected: list[str]) -> None:
    assert names(await services(seven.api, seven.org, orderBy=order, first=10)) == expected


async def test_order_by_updated_at_follows_changes(seven: Portfolio) -> None:
    listed = await seven.api.data('{ services(filter: {search: "03"}) { edges { node { id } } } }',
                                  token=seven.org.token(Role.VIEWER))
    service_id = listed["services"]["edges"][0]["node"]["id"]
    changed = await seven.api.data(UPDATE_SERVICE, {"input": {
        "serviceId": service_id, "summary": "touched"}}, seven.org.token(Role.CONTRIBUTOR))
    assert changed["updateService"]["errors"] == []
    page = await services(seven.api, seven.org, orderBy={"field": "UPDATED_AT",
                                                         "direction": "DESC"}, first=2)
    assert names(page)[0] == "Service 03"


# --- the portfolio overview ---------------------------------------------------------------------

PORTFOLIO = """{ portfolio {
  total
  bySection { section count }
  byStage { stage count }
  byInvestmentCategory { investmentCategory count }
} }"""


async def test_portfolio_counts(catalogue: Portfolio) -> None:
    data = await catalogue.api.data(PORTFOLIO, token=catalogue.org.token(Role.FINANCE))
    assert data["portfolio"] == {
        "total": 6,
        "bySection": [{"section": "PIPELINE", "count": 3}, {"section": "CATALOGUE", "count": 1},
                      {"section": "RETIRED", "count": 1}, {"section": "TERMINATED", "count": 1}],
        "byStage": [{"stage": stage.value, "count": 1 if stage in SIX_STAGES else 0}
                    for stage in Stage],
        "byInvestmentCategory": [{"investmentCategory": "RUN", "count": 3},
                                 {"investmentCategory": "GROW", "count": 1},
                                 {"investmentCategory": "TRANSFORM", "count": 2}],
    }


async def test_empty_portfolio_lists_every_value_with_zero(api: GraphQLClient, org: Org) -> None:
    data = await api.data(PORTFOLIO, token=org.token(Role.VIEWER))
    assert data["portfolio"] == {
        "total": 0,
        "bySection": [{"section": s, "count": 0}
                      for s in ("PIPELINE", "CATALOGUE", "RETIRED", "TERMINATED")],
        "byStage": [{"stage": stage.value, "count": 0} for stage in Stage],
        "byInvestmentCategory": [{"investmentCategory": c, "count": 0}
                                 for c in ("RUN", "GROW", "TRANSFORM")],
    }


# --- nodes --------------------------------------------------------------------------------------

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Service { name }
    ... on Requirement { text }
    ... on StakeholderInput { comment }
    ... on StageChange { toStage }
    ... on Person { email }
    ... on Organisation { slug }
  }
}"""


async def test_node_resolves_every_type(portfolio: Portfolio) -> None:
    service_id, _ = await portfolio.in_analysis()
    await portfolio.add_input(service_id)
    data = await portfolio.api.data("""query($id: ID!) { service(id: $id) {
        requirements { id } stakeholderInputs { id } stageChanges { id } owner { id }
        } viewer { organisation { id } } }""", {"id": service_id},
        portfolio.org.token(Role.VIEWER))
    service = data["service"]
    expected = [
        (service_id, {"__typename": "Service", "name": "Service Desk"}),
        (service["requirements"][0]["id"], {"__typename": "Requirement", "text": "req 0"}),
        (service["stakeholderInputs"][0]["id"],
         {"__typename": "StakeholderInput", "comment": "we need this"}),
        (service["stageChanges"][1]["id"], {"__typename": "StageChange", "toStage": "ANALYSIS"}),
        (service["owner"]["id"], {"__typename": "Person", "email": "contributor@acme.example"}),
        (data["viewer"]["organisation"]["id"], {"__typename": "Organisation", "slug": "acme"}),
    ]
    for node_id, fields in expected:
        found = await portfolio.api.data(NODE, {"id": node_id}, portfolio.org.token(Role.VIEWER))
        assert found["node"] == {"id": node_id, **fields}


@pytest.mark.parametrize("node_id", [
    to_base64("Service", 999_999),
    to_base64("Service", "abc"),
    to_base64("Nope", 1),
    to_base64("Requirement", 999_999),
], ids=["unknown-service", "non-numeric", "unknown-type", "unknown-requirement"])
async def test_bogus_ids_give_null(api: GraphQLClient, org: Org, node_id: str) -> None:
    body = await api.execute(NODE, {"id": node_id}, org.token(Role.VIEWER))
    assert body == {"data": {"node": None}}
    body = await api.execute("query($id: ID!) { service(id: $id) { name } }",
                             {"id": node_id}, org.token(Role.VIEWER))
    assert body == {"data": {"service": None}}


@pytest.mark.parametrize("node_id", ["bm90IGEgZ2xvYmFsIGlk", "!!!"],
                         ids=["base64-without-type", "not-base64"])
async def test_malformed_ids_give_null(api: GraphQLClient, org: Org, node_id: str) -> None:
    """Documented: 'null when not visible to you'; a garbled id is not an internal error."""
    for query, field in (("query($id: ID!) { node(id: $id) { id } }", "node"),
                         ("query($id: ID!) { service(id: $id) { name } }", "service")):
        body = await api.execute(query, {"id": node_id}, org.token(Role.VIEWER))
        assert body == {"data": {field: None}}, body


async def test_an_id_of_another_type_is_not_a_service(portfolio: Portfolio) -> None:
    service = await portfolio.create()
    requirement_id = await portfolio.add_requirement(service["id"])
    wrong_type = await portfolio.api.data("query($id: ID!) { service(id: $id) { name } }",
                                          {"id": requirement_id},
                                          portfolio.org.token(Role.VIEWER))
    assert wrong_type == {"service": None}
    wrong_type = await portfolio.api.data(ADD_REQUIREMENT, {"input": {
        "serviceId": requirement_id, "text": "x"}}, portfolio.org.token(Role.CONTRIBUTOR))
    assert codes_and_fields(wrong_type["addRequirement"]) == [("NOT_FOUND", "serviceId")]


# --- validation of the write side ---------------------------------------------------------------

async def create(api: GraphQLClient, org: Org, name: str) -> dict[str, Any]:
    data = await api.data(CREATE_SERVICE, {"input": {"name": name, "investmentCategory": "RUN"}},
                          org.token(Role.CONTRIBUTOR))
    payload: dict[str, Any] = data["createService"]
    return payload


async def total(api: GraphQLClient, org: Org) -> int:
    data = await api.data("{ services { totalCount } }", token=org.token(Role.VIEWER))
    count: int = data["services"]["totalCount"]
    return count


@pytest.mark.parametrize("name", ["", "   ", "x" * 201], ids=["empty", "blank", "too-long"])
async def test_bad_name_is_a_validation_error(api: GraphQLClient, org: Org, name: str) -> None:
    payload = await create(api, org, name)
    assert payload["service"] is None
    assert codes_and_fields(payload) == [("VALIDATION", "name")]
    assert await total(api, org) == 0


async def test_name_is_trimmed_and_200_characters_are_fine(api: GraphQLClient, org: Org) -> None:
    assert (await create(api, org, "  Spaced  "))["service"]["name"] == "Spaced"
    assert (await create(api, org, "y" * 200))["errors"] == []


async def test_duplicate_name_is_a_conflict(portfolio: Portfolio) -> None:
    api, org = portfolio.api, portfolio.org
    first = await portfolio.create("Service Desk")
    for name in ("Service Desk", "  Service Desk "):
        payload = await create(api, org, name)
        assert payload["service"] is None
        assert codes_and_fields(payload) == [("CONFLICT", "name")]
    other = await portfolio.create("Hosting")
    renamed = await api.data(UPDATE_SERVICE, {"input": {
        "serviceId": other["id"], "name": "Service Desk"}}, org.token(Role.CONTRIBUTOR))
    assert codes_and_fields(renamed["updateService"]) == [("CONFLICT", "name")]
    # Keeping one's own name is no conflict.
    same = await api.data(UPDATE_SERVICE, {"input": {
        "serviceId": first["id"], "name": "Service Desk"}}, org.token(Role.CONTRIBUTOR))
    assert same["updateService"]["errors"] == []
    assert await total(api, org) == 2


async def test_adding_a_requirement_in_approval_is_stage_locked(portfolio: Portfolio) -> None:
    service_id = await portfolio.in_approval()
    data = await portfolio.api.data(ADD_REQUIREMENT, {"input": {
        "serviceId": service_id, "text": "late idea"}}, portfolio.org.token(Role.CONTRIBUTOR))
    payload = data["addRequirement"]
    assert payload["requirement"] is None
    assert [e["code"] for e in payload["errors"]] == ["STAGE_LOCKED"]
    listed = await portfolio.api.data(
        "query($id: ID!) { service(id: $id) { requirements { text } } }",
        {"id": service_id}, portfolio.org.token(Role.VIEWER))
    assert [r["text"] for r in listed["service"]["requirements"]] == ["req 0", "req 1"]


async def test_blank_requirement_text_is_a_validation_error(portfolio: Portfolio) -> None:
    service = await portfolio.create()
    data = await portfolio.api.data(ADD_REQUIREMENT, {"input": {
        "serviceId": service["id"], "text": "  "}}, portfolio.org.token(Role.CONTRIBUTOR))
    assert codes_and_fields(data["addRequirement"]) == [("VALIDATION", "text")]


async def assess(portfolio: Portfolio, requirement_id: str, necessity: str,
                 reason: str = "workshop") -> dict[str, Any]:
    data = await portfolio.api.data(ASSESS_REQUIREMENT, {"input": {
        "requirementId": requirement_id, "necessity": necessity, "reason": reason}},
        portfolio.org.token(Role.PORTFOLIO_MANAGER))
    payload: dict[str, Any] = data["assessRequirement"]
    return payload


async def test_assessing_in_definition_is_stage_locked(portfolio: Portfolio) -> None:
    service = await portfolio.create()
    requirement_id = await portfolio.add_requirement(service["id"])
    payload = await assess(portfolio, requirement_id, "NECESSARY")
    assert payload["requirement"] is None
    assert [e["code"] for e in payload["errors"]] == ["STAGE_LOCKED"]
    node = await portfolio.api.data(
        "query($id: ID!) { node(id: $id) { ... on Requirement { necessity judgedBy { id } } } }",
        {"id": requirement_id}, portfolio.org.token(Role.VIEWER))
    assert node["node"] == {"necessity": "UNASSESSED", "judgedBy": None}


async def test_assessing_as_unassessed_or_without_reason_is_invalid(
    portfolio: Portfolio,
) -> None:
    _, requirements = await portfolio.in_analysis()
    unassessed = await assess(portfolio, requirements[0], "UNASSESSED")
    assert codes_and_fields(unassessed) == [("VALIDATION", "necessity")]
    no_reason = await assess(portfolio, requirements[0], "NECESSARY", reason=" ")
    assert codes_and_fields(no_reason) == [("VALIDATION", "reason")]
    node = await portfolio.api.data(
        "query($id: ID!) { node(id: $id) { ... on Requirement { necessity judgementReason } } }",
        {"id": requirements[0]}, portfolio.org.token(Role.VIEWER))
    assert node["node"] == {"necessity": "UNASSESSED", "judgementReason": None}


async def test_malformed_id_in_a_mutation_is_not_found(portfolio: Portfolio) -> None:
    """Mutations report bad ids in the payload, as they do for ids of the wrong type."""
    body = await portfolio.api.execute(ADD_REQUIREMENT, {"input": {
        "serviceId": "!!!", "text": "x"}}, portfolio.org.token(Role.CONTRIBUTOR))
    assert "errors" not in body, body["errors"]
    assert codes_and_fields(body["data"]["addRequirement"]) == [("NOT_FOUND", "serviceId")]


async def test_order_by_stage_follows_the_lifecycle(catalogue: Portfolio, org: Org) -> None:
    connection = await services(catalogue.api, org, orderBy={"field": "STAGE"})
    assert names(connection) == ["Alpha Desk", "Beta Hosting", "Gamma Portal",
                                 "Delta Payroll", "Epsilon Mail", "Zeta_Data"]
    connection = await services(catalogue.api, org,
                                orderBy={"field": "STAGE", "direction": "DESC"})
    assert names(connection)[0] == "Zeta_Data"
