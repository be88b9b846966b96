"""Request bodies are limited before they are parsed: a body over
``SPM_MAX_BODY_BYTES`` is refused with 413 and a JSON error as soon as the limit is
passed, whatever its ``Content-Length`` says, and is never read whole."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import AsyncIterator

import pytest

from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org

CHUNK = 64 * 1024
FIFTY_MB = 50 * 1024 * 1024


class Upload:
    """A body streamed in chunks, counting how many the server asked for."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        # A query document followed by padding: valid JSON if it were read whole.
        head = b'{"query": "{ __typename }", "padding": "'
        self.sent += 1
        yield head
        remaining = self.total - len(head) - 2
        block = b"x" * CHUNK
        while remaining > 0:
            self.sent += 1
            piece = block[:remaining]
            remaining -= len(piece)
            yield piece
        yield b'"}'


def assert_refused(response_status: int, body: bytes, limit: int) -> None:
    assert response_status == 413
    error = json.loads(body)["errors"][0]
    assert error["extensions"] == {"code": "REQUEST_TOO_LARGE", "maxBytes": limit}


@pytest.mark.parametrize("with_token", [False, True])
async def test_a_50_mb_body_without_content_length_is_refused_unread(
        api: GraphQLClient, org: Org, settings: Settings, with_token: bool) -> None:
    upload = Upload(FIFTY_MB)
    headers = {"Content-Type": "application/json"}
    if with_token:
        headers["Authorization"] = f"Bearer {org.token(Role.VIEWER)}"
    tracemalloc.start()
    try:
        response = await api.http.post("/graphql", content=upload.chunks(), headers=headers)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_refused(response.status_code, response.content, settings.max_body_bytes)
    # Refused once the limit was passed: a chunk or two past it, not 800 of them.
    assert upload.sent <= settings.max_body_bytes // CHUNK + 2
    assert peak < 8 * 1024 * 1024, f"peak memory {peak} bytes"


async def test_a_declared_content_length_over_the_limit_is_refused_before_reading(
        api: GraphQLClient, settings: Settings) -> None:
    upload = Upload(FIFTY_MB)
    response = await api.http.post("/graphql", content=upload.chunks(),
                                   headers={"Content-Length": str(FIFTY_MB),
                                            "Content-Type": "application/json"})
    assert_refused(response.status_code, response.content, settings.max_body_bytes)
    assert upload.sent == 0


async def test_a_lying_content_length_does_not_get_a_larger_body_in(
        api: GraphQLClient, settings: Settings) -> None:
    upload = Upload(5 * 1024 * 1024)
    response = await api.http.post("/graphql", content=upload.chunks(),
                                   headers={"Content-Length": "100",
                                            "Content-Type": "application/json"})
    assert_refused(response.status_code, response.content, settings.max_body_bytes)
    assert upload.sent <= settings.max_body_bytes // CHUNK + 2


async def test_a_body_under_the_limit_is_answered(api: GraphQLClient) -> None:
    padding = "x" * (512 * 1024)
    response = await api.http.post("/graphql",
                                   json={"query": "{ __typename }", "padding": padding})
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}
