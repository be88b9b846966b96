"""Persisted operations: documents registered by hash from the front end's manifest,
Automatic Persisted Queries as Apollo clients speak them, and the persisted-only mode
that runs nothing else. Refusals are GraphQL errors with a code in a 200 response."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect

from spm_api.app import create_app
from spm_api.cli import EXIT_REFUSED
from spm_api.graphql.core.persisted import ManifestError, PersistedOperations, document_hash
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org, serve_api
from tests.ws import running, subscriber

REGISTERED = "query Services { services(first: 1) { edges { node { id } } } }"
OTHER = "query Count { services(first: 2) { edges { node { name } } } }"
EMPTY: dict[str, Any] = {"services": {"edges": []}}


def persisted(digest: str, query: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1,
                                                              "sha256Hash": digest}}}
    if query is not None:
        body["query"] = query
    return body


class Client:
    """Posts raw request bodies, as an APQ client does."""

    def __init__(self, api: GraphQLClient, token: str) -> None:
        self.api = api
        self.headers = {"Authorization": f"Bearer {token}"}

    async def post(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.api.http.post("/graphql", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def get(self, body: dict[str, Any]) -> dict[str, Any]:
        params = {key: json.dumps(value) if isinstance(value, dict) else value
                  for key, value in body.items()}
        response = await self.api.http.get("/graphql", params=params, headers={
            **self.headers, "Accept": "application/json"})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def code(body: dict[str, Any]) -> str | None:
    assert body["data"] is None, body
    [error] = body["errors"]
    value: str | None = error["extensions"]["code"]
    return value


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({document_hash(REGISTERED): REGISTERED}))
    return path


@pytest.fixture
async def configured(db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org
                     ) -> AsyncIterator[Any]:
    """A client for an application built with some settings changed."""
    bus = EventBus("memory://")
    stack: list[Any] = []

    async def make(**changes: Any) -> Client:
        app = create_app(settings.model_copy(update=changes), engine=db, plugins=plugins,
                         bus=bus)
        context = serve_api(app)
        stack.append(context)
        return Client(await context.__aenter__(), org.token(Role.VIEWER))

    yield make
    for context in reversed(stack):
        await context.__aexit__(None, None, None)
    await bus.disconnect()


async def test_persisted_only_runs_registered_documents_alone(
        configured: Any, manifest: Path) -> None:
    client = await configured(persisted_operations_file=manifest, persisted_only=True)
    assert (await client.post(persisted(document_hash(REGISTERED))))["data"] == EMPTY
    # A registered document's full text is the same operation, so it runs too.
    assert (await client.post({"query": REGISTERED}))["data"] == EMPTY
    refused = await client.post({"query": OTHER})
    assert code(refused) == "PERSISTED_QUERY_REQUIRED"
    # Registering by APQ is refused as well, and registers nothing.
    assert code(await client.post(persisted(document_hash(OTHER), OTHER))) == (
        "PERSISTED_QUERY_REQUIRED")
    assert code(await client.post(persisted(document_hash(OTHER)))) == (
        "PERSISTED_QUERY_NOT_FOUND")


async def test_refused_before_parsing(configured: Any, manifest: Path) -> None:
    client = await configured(persisted_operations_file=manifest, persisted_only=True)
    assert code(await client.post({"query": "{ not graphql"})) == "PERSISTED_QUERY_REQUIRED"


async def test_apq_round_trip(configured: Any) -> None:
    client = await configured()
    digest = document_hash(OTHER)
    missing = await client.post(persisted(digest))
    assert missing["errors"][0]["message"] == "PersistedQueryNotFound"
    assert code(missing) == "PERSISTED_QUERY_NOT_FOUND"
    assert (await client.post(persisted(digest, OTHER)))["data"] == EMPTY
    assert (await client.post(persisted(digest)))["data"] == EMPTY
    assert (await client.get(persisted(digest)))["data"] == EMPTY


async def test_the_manifest_answers_by_hash_without_registration(
        configured: Any, manifest: Path) -> None:
    client = await configured(persisted_operations_file=manifest)
    assert (await client.post(persisted(document_hash(REGISTERED))))["data"] == EMPTY
    assert (await client.post({"query": OTHER}))["data"] == EMPTY  # not persisted-only


async def test_get_by_hash_runs_queries_only(configured: Any) -> None:
    client = await configured()
    mutation = 'mutation { createService(input: {name: "x"}) { errors { code } } }'
    digest = document_hash(mutation)
    assert code(await client.get(persisted(digest))) == "PERSISTED_QUERY_NOT_FOUND"
    response = await client.api.http.get("/graphql", headers={
        **client.headers, "Accept": "application/json"},
        params={"query": mutation, "extensions": json.dumps(
            persisted(digest)["extensions"])})
    assert (response.status_code, response.text) == (
        400, "mutations are not allowed when using GET")  # as without a hash


async def test_hash_mismatch(configured: Any) -> None:
    client = await configured()
    assert code(await client.post(persisted(document_hash(REGISTERED), OTHER))) == (
        "PERSISTED_QUERY_HASH_MISMATCH")
    # Nothing was stored under either hash.
    assert code(await client.post(persisted(document_hash(REGISTERED)))) == (
        "PERSISTED_QUERY_NOT_FOUND")


async def test_an_unsupported_version_is_refused(configured: Any) -> None:
    client = await configured()
    body = {"query": OTHER, "extensions": {"persistedQuery": {
        "version": 2, "sha256Hash": document_hash(OTHER)}}}
    assert code(await client.post(body)) == "PERSISTED_QUERY_NOT_SUPPORTED"


async def test_the_apq_cache_is_bounded(configured: Any) -> None:
    client = await configured(apq_cache_size=2)
    documents = [f"query Q{n} {{ services(first: {n}) {{ edges {{ node {{ id }} }} }} }}"
                 for n in (1, 2, 3)]
    for document in documents:
        assert (await client.post(persisted(document_hash(document), document)))[
            "data"] == EMPTY
    assert code(await client.post(persisted(document_hash(documents[0])))) == (
        "PERSISTED_QUERY_NOT_FOUND")  # the least recently used went first
    for document in documents[1:]:
        assert (await client.post(persisted(document_hash(document))))["data"] == EMPTY


def test_the_apq_cache_is_bounded_in_characters_too() -> None:
    operations = PersistedOperations({}, only=False, cache_size=100, cache_chars=100)
    long_ones = [f"{{ services(first: {n}) {{ totalCount }} }}" + " " * 30 for n in (1, 2, 3)]
    for query in long_ones:
        assert operations.resolve_payload(query, persisted(document_hash(query))[
            "extensions"]) == query
    assert not isinstance(operations.resolve_payload(None, persisted(document_hash(
        long_ones[2]))["extensions"]), GraphQLError)
    refused = operations.resolve_payload(None, persisted(document_hash(long_ones[0]))[
        "extensions"])
    assert isinstance(refused, GraphQLError)
    assert operations.automatic_chars <= 100
    too_long = "{ services { totalCount } }" + " " * 100
    operations.resolve_payload(too_long, persisted(document_hash(too_long))["extensions"])
    assert document_hash(too_long) not in operations.automatic


async def test_an_apollo_manifest_is_read(configured: Any, tmp_path: Path) -> None:
    path = tmp_path / "persisted-query-manifest.json"
    path.write_text(json.dumps({
        "format": "apollo-persisted-query-manifest", "version": 1,
        "operations": [{"id": document_hash(REGISTERED), "body": REGISTERED,
                        "name": "Services", "type": "query"}]}))
    client = await configured(persisted_operations_file=path, persisted_only=True)
    assert (await client.post(persisted(document_hash(REGISTERED))))["data"] == EMPTY


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "Expecting property name"),
    ("[]", "expected a JSON object"),
    (json.dumps({"abc": REGISTERED}), "'abc' is not the sha256 of its document"),
    (json.dumps({document_hash(REGISTERED): 3}), "is not a string"),
    (json.dumps({"format": "apollo-persisted-query-manifest", "version": 1,
                 "operations": [{"id": "x"}]}), 'operation 0 needs an "id" and a "body"'),
])
def test_a_bad_manifest_fails_the_start(settings: Settings, plugins: PluginHost,
                                        tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(ManifestError, match="SPM_PERSISTED_OPERATIONS_FILE") as failure:
        create_app(settings.model_copy(update={"persisted_operations_file": path}),
                   plugins=plugins, bus=EventBus("memory://"))
    assert message in str(failure.value)


def test_a_missing_manifest_or_none_at_all_fails_the_start(
        settings: Settings, plugins: PluginHost, tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="No such file"):
        create_app(settings.model_copy(update={
            "persisted_operations_file": tmp_path / "absent.json"}),
            plugins=plugins, bus=EventBus("memory://"))
    with pytest.raises(ManifestError, match="SPM_PERSISTED_ONLY needs"):
        create_app(settings.model_copy(update={"persisted_only": True}),
                   plugins=plugins, bus=EventBus("memory://"))


SUBSCRIPTION = "subscription { statementIssued { period } }"


@pytest.fixture
def ws_manifest(tmp_path: Path) -> Path:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({document_hash(query): query
                                for query in (REGISTERED, SUBSCRIPTION)}))
    return path


async def test_websocket_operations_follow_the_same_rules(
        db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org,
        ws_manifest: Path) -> None:
    changed = settings.model_copy(update={"persisted_operations_file": ws_manifest,
                                          "persisted_only": True})
    bus = EventBus("memory://")
    async with running(create_app(changed, engine=db, plugins=plugins, bus=bus)) as address, \
            subscriber(address, org.token(Role.VIEWER)) as client:
        await client.send({"id": "1", "type": "subscribe", "payload": {"query": OTHER}})
        refused = await client.receive()
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"] == {"code": "PERSISTED_QUERY_REQUIRED"}
        await client.send({"id": "2", "type": "subscribe",
                           "payload": persisted(document_hash(REGISTERED))})
        assert await client.next_data() == EMPTY
        assert (await client.receive())["type"] == "complete"
        await client.send({"id": "3", "type": "subscribe",
                           "payload": persisted(document_hash(SUBSCRIPTION))})
        assert await client.nothing_within(0.3)  # listening, not refused
    await bus.disconnect()


async def test_legacy_websocket_operations_follow_the_same_rules(
        db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org,
        ws_manifest: Path) -> None:
    changed = settings.model_copy(update={"persisted_operations_file": ws_manifest,
                                          "persisted_only": True, "graphql_ws_legacy": True})
    bus = EventBus("memory://")
    async with running(create_app(changed, engine=db, plugins=plugins, bus=bus)) as address, \
            connect(f"ws://{address}/graphql",
                    subprotocols=["graphql-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {
            "Authorization": f"Bearer {org.token(Role.VIEWER)}"}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "start",
                                      "payload": {"query": OTHER}}))
        while (message := json.loads(await asyncio.wait_for(socket.recv(), 5)))[
                "type"] == "ka":
            pass
        assert message["type"] == "error"
        assert message["payload"]["extensions"] == {"code": "PERSISTED_QUERY_REQUIRED"}
    await bus.disconnect()


def test_serving_with_a_bad_manifest_says_so_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text("[]")
    env = {**os.environ, "SPM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'spm.db'}",
           "SPM_PERSISTED_OPERATIONS_FILE": str(path)}
    env.pop("SPM_DEBUG", None)
    result = subprocess.run([sys.executable, "-m", "spm_api.cli", "serve", "--port", "0"],
                            env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == EXIT_REFUSED
    assert result.stderr.splitlines() == [
        f"error [CONFIGURATION]: SPM_PERSISTED_OPERATIONS_FILE {path}: expected a JSON "
        "object"]
