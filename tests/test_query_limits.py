"""Limits on what one document may ask, refused before anything runs, each with a code
and the figures behind it: depth (every field counted, introspection's too), cost
(lists weighted by the items they may return), and who may introspect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import get_introspection_query
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.app import create_app
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org, serve_api


def nested_services(levels: int, leaf: str = "id") -> str:
    """A query ``levels`` requirement → service hops deep (each hop two fields)."""
    inner = leaf
    for _ in range(levels):
        inner = f"requirements {{ service {{ {inner} }} }}"
    return f"{{ services(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}"


def deep_introspection(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"ofType {{ {inner} }}"
    return f'{{ __type(name: "Service") {{ fields {{ type {{ {inner} }} }} }} }}'


def codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


@pytest.fixture
async def configured(db: AsyncEngine, settings: Settings, plugins: PluginHost
                     ) -> AsyncIterator[Any]:
    """A client for an application built with some settings changed."""
    bus = EventBus("memory://")
    stack: list[Any] = []

    async def make(**changes: Any) -> GraphQLClient:
        app = create_app(settings.model_copy(update=changes), engine=db, plugins=plugins,
                         bus=bus)
        context = serve_api(app)
        stack.append(context)
        return await context.__aenter__()

    yield make
    for context in reversed(stack):
        await context.__aexit__(None, None, None)
    await bus.disconnect()


async def test_depth_counts_every_field(configured: Any, org: Org) -> None:
    api = await configured(max_query_cost=10**9)  # depth alone, whatever the cost
    token = org.token(Role.VIEWER)
    # services 0, edges 1, node 2, then two per hop: 4 hops and one more list put `id`
    # at depth 12, 5 hops at 13.
    assert await api.data(nested_services(4, "requirements { id }"), token=token) == {
        "services": {"edges": []}}
    body = await api.execute(nested_services(5), token=token)
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "QUERY_TOO_DEEP", "depth": 13,
                                               "maxDepth": 12}


@pytest.mark.parametrize("with_token", [False, True])
async def test_a_50_deep_introspection_query_is_refused(
        api: GraphQLClient, org: Org, with_token: bool) -> None:
    body = await api.execute(deep_introspection(50),
                             token=org.token(Role.VIEWER) if with_token else None)
    assert body["data"] is None
    assert "QUERY_TOO_DEEP" in codes(body)
    assert body["errors"][0]["extensions"]["maxDepth"] == 15


async def test_the_standard_introspection_query_fits_its_depth(
        api: GraphQLClient, org: Org) -> None:
    body = await api.execute(get_introspection_query(input_value_deprecation=True),
                             token=org.token(Role.VIEWER))
    assert "errors" not in body


async def test_introspection_needs_a_token_by_default(api: GraphQLClient, org: Org) -> None:
    query = '{ __type(name: "Service") { name } }'
    body = await api.execute(query)
    assert body["data"] is None
    assert codes(body) == ["UNAUTHENTICATED"]
    assert await api.data(query, token=org.token(Role.VIEWER)) == {
        "__type": {"name": "Service"}}
    # __typename is no introspection of the schema.
    assert await api.data("{ __typename }") == {"__typename": "Query"}


async def test_introspection_can_be_open_or_off(configured: Any, org: Org) -> None:
    query = '{ __schema { queryType { name } } }'
    open_api = await configured(introspection="on")
    assert await open_api.data(query) == {"__schema": {"queryType": {"name": "Query"}}}
    closed_api = await configured(introspection="off")
    body = await closed_api.execute(query, token=org.token(Role.ADMIN))
    assert body["data"] is None
    assert codes(body) == ["INTROSPECTION_DISABLED"]


async def test_a_costly_query_is_refused_with_its_cost_and_the_budget(
        api: GraphQLClient, org: Org) -> None:
    # A plain list is assumed to hold 10 items, a page what it asks for.
    query = ("{ services(first: 100) { edges { node { requirements { service {"
             " requirements { service { requirements { id } } } } } } } } }")
    body = await api.execute(query, token=org.token(Role.VIEWER))
    assert body["data"] is None
    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "QUERY_TOO_COSTLY"
    assert extensions["maxCost"] == 50_000
    # services and edges 2, then per service: node and requirements 2, per requirement
    # service and requirements 2, and so on down to the ids.
    assert extensions["cost"] == 2 + 100 * (2 + 10 * (2 + 10 * (2 + 10)))


async def test_the_cost_follows_the_page_size_asked(configured: Any, org: Org) -> None:
    api = await configured(max_query_cost=100)
    token = org.token(Role.VIEWER)
    page = "{{ services{} {{ totalCount edges {{ node {{ id name }} }} }} }}"
    # services, totalCount and edges 3, then per service node, id and name 3.
    assert await api.data(page.format("(first: 32)"), token=token)
    body = await api.execute(page.format("(first: 33)"), token=token)
    assert body["errors"][0]["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 102,
                                               "maxCost": 100}
    # Without first, or with a variable, a page counts as the largest one.
    body = await api.execute(page.format(""), token=token)
    assert body["errors"][0]["extensions"]["cost"] == 3 + 100 * 3
    body = await api.execute(
        "query($n: Int) { services(first: $n) { edges { node { id } } } }", {"n": 1},
        token=token)
    assert codes(body) == ["QUERY_TOO_COSTLY"]


async def test_the_canonical_portfolio_page_fits_the_budget(
        api: GraphQLClient, org: Org) -> None:
    from tests.test_request_garbage import PAGE

    await api.data(PAGE.replace("first: 50", "first: 100"), token=org.token(Role.VIEWER))


async def test_too_many_aliases_are_refused_with_the_count(api: GraphQLClient,
                                                           org: Org) -> None:
    fields = " ".join(f"a{number}: __typename" for number in range(31))
    body = await api.execute(f"{{ {fields} }}", token=org.token(Role.VIEWER))
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "TOO_MANY_ALIASES", "aliases": 31,
                                               "maxAliases": 30}
    fields = " ".join(f"a{number}: __typename" for number in range(30))
    assert len(await api.data(f"{{ {fields} }}", token=org.token(Role.VIEWER))) == 30


async def test_a_document_over_the_token_limit_is_refused_with_a_code(
        api: GraphQLClient, org: Org, settings: Settings) -> None:
    fields = " ".join(f"a{number}: viewer {{ name }}" for number in range(2000))
    body = await api.execute(f"{{ {fields} }}", token=org.token(Role.VIEWER))
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "TOO_MANY_TOKENS",
                                   "maxTokens": settings.max_tokens}


async def test_a_syntax_error_has_a_code(api: GraphQLClient, org: Org) -> None:
    body = await api.execute("{ viewer { name ", token=org.token(Role.VIEWER))
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert error["message"].startswith("Syntax Error")
