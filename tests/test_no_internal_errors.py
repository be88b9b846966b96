"""Valid queries that used to reach internal errors answer with coded errors (or null)
instead: an error id is no answer. Each test is one class of input a generated query
found."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org, Portfolio


def global_id(type_name: str, pk: int | str) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def checked_out(engine: AsyncEngine) -> int:
    """Connections of ``engine`` not back in its pool."""
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


def codes(body: dict[str, Any]) -> list[str | None]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


async def test_a_global_id_of_another_type_in_a_filter_is_not_found(
        api: GraphQLClient, org: Org, portfolio: Portfolio) -> None:
    service = await portfolio.create("Payroll")
    body = await api.execute(
        "query($ids: [ID!]) { services(filter: {ownerIds: $ids}) { totalCount } }",
        {"ids": [service["id"]]}, token=org.token(Role.VIEWER))
    assert codes(body) == ["NOT_FOUND"]
    error = body["errors"][0]
    assert error["extensions"]["field"] == "ownerIds"
    assert error["path"] == ["services"]
    assert body["data"] is None


async def test_node_of_an_interface_name_is_null(api: GraphQLClient, org: Org) -> None:
    token = org.token(Role.VIEWER)
    for name in ("Node", "Query", "PageInfo", "ServiceConnection", "Money", "Stage",
                 "NoSuchType", "String", "ServiceFilter"):
        body = await api.execute("query($id: ID!) { node(id: $id) { id } }",
                                 {"id": global_id(name, 1)}, token=token)
        assert body == {"data": {"node": None}}, name


async def test_a_refused_argument_leaves_no_sibling_reading_a_closed_session(
        api: GraphQLClient, db: AsyncEngine, org: Org, portfolio: Portfolio) -> None:
    """The refused field is non-null, so its error nulls the whole response while its
    siblings are still reading: they finish before the request's session is closed,
    instead of reopening it (a connection never returned to the pool) or failing
    mid-statement (a database error in the response)."""
    await portfolio.create("Payroll")
    await portfolio.create("Intranet")
    query = """{
      viewer { name }
      a: services(first: 1) { totalCount edges { node { name owner { name } } } }
      refused: services(first: 1000) { totalCount }
      b: services(last: 1) { totalCount edges { node { name requirements { text } } } }
      portfolio { total }
      c: services(first: 2) { edges { node { stageChanges { toStage actor { name } } } } }
    }"""
    for _ in range(5):
        body = await api.execute(query, token=org.token(Role.VIEWER))
        assert codes(body) == ["BAD_USER_INPUT"], body["errors"]
        assert body["errors"][0]["path"] == ["refused"]
        assert body["data"] is None  # services is non-null: the error reaches the root
        await asyncio.sleep(0.05)  # what a sibling left running would do by now
        assert checked_out(db) == 0, "every connection is back in the pool"


async def test_a_refused_argument_in_the_same_request_as_node_and_service(
        api: GraphQLClient, db: AsyncEngine, org: Org, portfolio: Portfolio) -> None:
    service = await portfolio.create("Payroll")
    query = """query($id: ID!) {
      viewer { name }
      service(id: $id) { name owner { name } stageChanges { toStage } }
      node(id: $id) { id ... on Service { requirements { text } } }
      services(first: 1000) { totalCount }
    }"""
    body = await api.execute(query, {"id": service["id"]}, token=org.token(Role.VIEWER))
    assert codes(body) == ["BAD_USER_INPUT"]
    await asyncio.sleep(0.05)
    assert checked_out(db) == 0


async def test_text_with_a_nul_character_is_refused_before_any_work(
        api: GraphQLClient, org: Org) -> None:
    # PostgreSQL cannot store U+0000; found by the schema fuzz test as an internal error.
    mutation = """mutation($name: String!) {
      createCustomer(input: {name: $name, kind: INTERNAL_DEPARTMENT}) {
        customer { name } errors { code field } } }"""
    body = await api.execute(mutation, {"name": "Fin\x00ance"}, token=org.token(Role.ADMIN))
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]
    # Written as an escape inside the document, it reaches the domain, which refuses it.
    literal = await api.data('mutation { createCustomer(input: {name: "Fin\\u0000ance", '
                             'kind: INTERNAL_DEPARTMENT}) { errors { code field } } }',
                             token=org.token(Role.ADMIN))
    assert literal == {"createCustomer": {"errors": [{"code": "VALIDATION", "field": "name"}]}}
    customers = await api.data("{ customers { name } }", token=org.token(Role.ADMIN))
    assert customers == {"customers": []}


def test_domain_text_refuses_a_nul_character() -> None:
    from spm_api.vocabulary.errors import DomainError
    from spm_api.vocabulary.validation import required_text

    with pytest.raises(DomainError) as refused:
        required_text("Fin\x00ance", "name", 200)
    assert refused.value.problems[0].field == "name"
