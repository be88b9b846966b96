"""Revocation on every process: two ``spm-api serve`` processes on one PostgreSQL
database; a token revoked or rotated, or a person deactivated, through one of them is
refused by the other on its very next request (and ends a subscription there at the
next event). Nothing about a token is remembered between requests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Portfolio, make_org
from tests.test_event_bus_processes import api_processes, engine_for
from tests.ws import subscriber

#: Answered by the planned read path (the token and the page in one lane).
PLANNED = "{ viewer { email } }"
#: Answered by the executor.
EXECUTED = "{ portfolio { total } }"

CREATE = """mutation($name: String!) { createToken(input: {name: $name}) {
  token { id } secret errors { code } } }"""
REVOKE = """mutation($id: ID!) { revokeToken(input: {tokenId: $id}) { errors { code } } }"""
ROTATE = """mutation($id: ID!) { rotateToken(input: {tokenId: $id}) {
  secret errors { code } } }"""
DEACTIVATE = """mutation($id: ID!) { deactivatePerson(input: {personId: $id}) {
  errors { code } } }"""
REACTIVATE = """mutation($id: ID!) { reactivatePerson(input: {personId: $id}) {
  errors { code } } }"""


async def ask(http: httpx.AsyncClient, query: str, token: str,
              variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}},
                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def accepted(http: httpx.AsyncClient, token: str) -> bool:
    """Whether both read paths take the token; they must agree."""
    answers = [await ask(http, query, token) for query in (PLANNED, EXECUTED)]
    codes = [[e["extensions"]["code"] for e in body.get("errors") or []] for body in answers]
    assert codes[0] == codes[1], answers
    assert codes[0] in ([], ["UNAUTHENTICATED"]), answers
    return codes[0] == []


async def mutate(http: httpx.AsyncClient, query: str, token: str, **variables: Any
                 ) -> dict[str, Any]:
    body = await ask(http, query, token, variables)
    assert not body.get("errors"), body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    assert payload["errors"] == [], payload
    return payload


@pytest.mark.postgres
async def test_revocation_through_one_process_is_refused_by_the_other_at_once(
        postgres_url: str) -> None:
    async with engine_for(postgres_url) as engine:
        org = await make_org(engine, "revocation")
    viewer, admin = org.token(Role.VIEWER), org.token(Role.ADMIN)
    async with api_processes(postgres_url, "postgres", 2) as (a, b), \
            httpx.AsyncClient(base_url=f"http://{a}") as on_a, \
            httpx.AsyncClient(base_url=f"http://{b}") as on_b:
        # Revoked through A: B refuses it on the very next request.
        created = await mutate(on_a, CREATE, viewer, name="laptop")
        secret = created["secret"]
        assert await accepted(on_b, secret) and await accepted(on_a, secret)
        await mutate(on_a, REVOKE, viewer, id=created["token"]["id"])
        assert not await accepted(on_b, secret)
        assert not await accepted(on_a, secret)

        # Rotated through B: A refuses the old secret at once and takes the new one.
        created = await mutate(on_b, CREATE, viewer, name="phone")
        old = created["secret"]
        assert await accepted(on_a, old)
        new = (await mutate(on_b, ROTATE, old, id=created["token"]["id"]))["secret"]
        assert not await accepted(on_a, old)
        assert await accepted(on_a, new)

        # Deactivated through A: every token of the person is refused by B; reactivated
        # through B, A takes them again.
        finance = org.token(Role.FINANCE)
        person = (await ask(on_a, "{ viewer { id } }", finance))["data"]["viewer"]["id"]
        assert await accepted(on_b, finance)
        await mutate(on_a, DEACTIVATE, admin, id=person)
        assert not await accepted(on_b, finance)
        await mutate(on_b, REACTIVATE, admin, id=person)
        assert await accepted(on_a, finance)


@pytest.mark.postgres
async def test_a_subscription_on_the_other_process_ends_at_the_next_event(
        postgres_url: str) -> None:
    async with engine_for(postgres_url) as engine:
        org = await make_org(engine, "revocation-live")
    async with api_processes(postgres_url, "postgres", 2) as (a, b), \
            subscriber(b, org.token(Role.FINANCE)) as client, \
            httpx.AsyncClient(base_url=f"http://{a}") as on_a:
        await client.subscribe("subscription { stageChanged { stageChange { toStage } } }")
        await asyncio.sleep(0.3)  # B's LISTEN is in place
        portfolio = Portfolio(GraphQLClient(on_a), org)
        await portfolio.create("Before")
        assert (await client.next_data())["stageChanged"]["stageChange"]["toStage"] == (
            "DEFINITION")
        person = (await ask(on_a, "{ viewer { id } }", org.token(Role.FINANCE)))["data"][
            "viewer"]["id"]
        await mutate(on_a, DEACTIVATE, org.token(Role.ADMIN), id=person)
        await portfolio.create("After")
        message = await client.receive()
        errors = (message["payload"] if message["type"] == "error"
                  else message["payload"].get("errors"))
        assert errors and errors[0]["extensions"]["code"] == "UNAUTHENTICATED", message
