"""README.md's walkthrough, run literally, in order, against a fresh ``make run``
(``spm-api serve --demo`` on a new SQLite file, as the Makefile starts it), so the
README cannot drift from what the API answers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ws import Subscriber, free_port, subscriber

REPOSITORY = Path(__file__).resolve().parent.parent
README = REPOSITORY / "README.md"
MAKEFILE = REPOSITORY / "Makefile"
BLOCK = re.compile(r"```(?P<language>sh|graphql)\n(?P<code>.*?)```", re.DOTALL)
AS_PERSON = re.compile(r"^# as (?P<name>.+)$", re.MULTILINE)


@dataclass
class Block:
    language: str
    code: str

    @property
    def person(self) -> str:
        found = AS_PERSON.search(self.code)
        assert found, f"a GraphQL block of the walkthrough names whose token it needs:\n{self}"
        return found["name"].strip()


def walkthrough_blocks() -> list[Block]:
    text = README.read_text()
    section = text.split("<!-- walkthrough -->", 1)[1].split("<!-- /walkthrough -->", 1)[0]
    return [Block(match["language"], match["code"]) for match in BLOCK.finditer(section)]


def demo_services() -> str:
    found = re.search(r"^DEMO_SERVICES \?= (\d+)$", MAKEFILE.read_text(), re.MULTILINE)
    assert found, "the Makefile sets DEMO_SERVICES"
    return found[1]


def all_errors(value: Any, path: str = "") -> list[str]:
    """Every non-empty ``errors`` anywhere in a response, with where it was."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "errors" and item:
                found.append(f"{path or '/'}: {item}")
            else:
                found.extend(all_errors(item, f"{path}/{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(all_errors(item, f"{path}/{index}"))
    return found


@dataclass
class Server:
    address: str
    printed: str

    @property
    def url(self) -> str:
        return f"http://{self.address}"


@pytest.fixture(scope="module")
def fresh_make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("walkthrough")
    port = free_port()
    env = {**os.environ, "SPM_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'spm.db'}",
           "SPM_OUTBOX_IN_SERVER": "false"}
    env.pop("SPM_DEMO_MODE", None)
    log = folder / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "spm_api.cli", "serve", "--demo",
             "--services", demo_services(), "--port", str(port)],
            cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        address = f"127.0.0.1:{port}"
        for _ in range(1200):
            if process.poll() is not None:
                pytest.fail(f"the server stopped:\n{log.read_text()}")
            try:
                if httpx.get(f"http://{address}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail(f"the server did not answer:\n{log.read_text()}")
        yield Server(address, log.read_text())
    finally:
        process.terminate()
        process.wait(timeout=30)


def printed_tokens(printed: str) -> dict[str, str]:
    """The demo people's tokens as ``make run`` printed them, by email."""
    return {match[1]: match[2] for match in
            re.finditer(r"^\s+[A-Z_, ]+?\s+(\S+@\S+)\s+(spm_\S+)$", printed, re.MULTILINE)}


async def tokens_by_name(server: Server) -> dict[str, str]:
    tokens = printed_tokens(server.printed)
    assert len(tokens) == 8, server.printed
    named = {}
    async with httpx.AsyncClient(base_url=server.url) as http:
        for token in tokens.values():
            response = await http.post("/graphql", json={"query": "{ viewer { name } }"},
                                       headers={"Authorization": f"Bearer {token}"})
            named[response.json()["data"]["viewer"]["name"]] = token
    return named


async def events(live: Subscriber) -> AsyncIterator[dict[str, Any]]:
    while True:
        try:
            message = await live.receive(within=2.0)
        except TimeoutError:
            return
        yield message


async def test_the_readme_walkthrough_runs_as_written(fresh_make_run: Server) -> None:
    blocks = walkthrough_blocks()
    assert [block.language for block in blocks].count("graphql") >= 10
    tokens = await tokens_by_name(fresh_make_run)
    subscriptions: list[Subscriber] = []
    async with AsyncExitStack() as stack, httpx.AsyncClient(base_url=fresh_make_run.url,
                                                            timeout=30) as http:
        for block in blocks:
            if block.language == "sh":
                body = run_shell(block.code, fresh_make_run, tokens["Pia Portfolio"])
            elif block.code.lstrip().split("\n", 1)[1].lstrip().startswith("subscription"):
                live = await stack.enter_async_context(
                    subscriber(fresh_make_run.address, tokens[block.person]))
                await live.subscribe(block.code)
                subscriptions.append(live)
                continue
            else:
                response = await http.post(
                    "/graphql", json={"query": block.code},
                    headers={"Authorization": f"Bearer {tokens[block.person]}"})
                assert response.status_code == 200, response.text
                body = response.json()
            assert "data" in body, (block.code, body)
            assert not all_errors(body), (block.code, all_errors(body))

        assert subscriptions, "the walkthrough shows a subscription"
        for live in subscriptions:
            received = [message async for message in events(live)]
            assert all(message["type"] == "next" for message in received), received
            assert not any(all_errors(message["payload"]) for message in received), received
            moves = [message["payload"]["data"]["stageChanged"]["stageChange"]["toStage"]
                     for message in received]
            assert moves == ["DEFINITION", "ANALYSIS", "APPROVAL", "CHARTERED"], moves


def run_shell(code: str, server: Server, token: str) -> dict[str, Any]:
    """A shell block as a reader pastes it, with the token they were told to use and the
    test server's address."""
    assert "TOKEN=spm_..." in code and "http://127.0.0.1:8000" in code, code
    script = code.replace("TOKEN=spm_...", f"TOKEN={token}").replace(
        "http://127.0.0.1:8000", server.url)
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def test_make_run_starts_the_demo_server_as_the_walkthrough_expects() -> None:
    recipe = MAKEFILE.read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "spm-api serve --demo --services $(DEMO_SERVICES)" in recipe, recipe
    assert "--port $(PORT)" in recipe, recipe
