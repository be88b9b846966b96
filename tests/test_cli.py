"""The ``spm-api`` command line, run as a separate process against its own SQLite file."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from spm_api.app import create_app
from spm_api.settings import Settings

REPOSITORY = Path(__file__).resolve().parent.parent
SCHEMA_FILE = REPOSITORY / "schema.graphql"
ALL_ROLES = {"VIEWER", "CONTRIBUTOR", "DECISION_MAKER", "PORTFOLIO_MANAGER", "FINANCE", "ADMIN"}
ALL_STAGES = {"DEFINITION", "ANALYSIS", "APPROVAL", "CHARTERED", "LIVE", "RETIRING", "RETIRED",
              "REJECTED", "WITHDRAWN", "CANCELLED"}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.returncode == 0, self.stderr
        return json.loads(self.stdout)


@dataclass
class Cli:
    """The CLI bound to one database file."""

    database_url: str
    cwd: Path

    async def __call__(self, *arguments: str) -> Run:
        env = {**os.environ, "SPM_DATABASE_URL": self.database_url}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "spm_api.cli", *arguments,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=env, cwd=self.cwd)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode is not None
        return Run(process.returncode, stdout.decode(), stderr.decode())

    async def graphql(self, query: str, token: str | None) -> dict[str, Any]:
        """Ask an app served from the same database, as a front end would."""
        app = create_app(Settings(database_url=self.database_url))
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://testserver") as http:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                response = await http.post("/graphql", json={"query": query}, headers=headers)
        finally:
            await app.state.engine.dispose()
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file brought to head once by ``db upgrade``; each test gets a copy."""
    folder = tmp_path_factory.mktemp("cli-template")
    path = folder / "cli.db"
    result = subprocess.run(
        [sys.executable, "-m", "spm_api.cli", "db", "upgrade"],
        env={**os.environ, "SPM_DATABASE_URL": f"sqlite+aiosqlite:///{path}"},
        cwd=folder, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "database at head"
    return path


@pytest.fixture
def cli(migrated: Path, tmp_path: Path) -> Cli:
    path = tmp_path / "cli.db"
    shutil.copyfile(migrated, path)
    return Cli(f"sqlite+aiosqlite:///{path}", tmp_path)


async def test_db_upgrade_on_a_fresh_file_and_again(tmp_path: Path) -> None:
    cli = Cli(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", tmp_path)
    for _ in range(2):  # the second run has nothing to do, and says so calmly
        result = await cli("db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "database at head"
    org = await cli("org", "create", "--name", "X", "--slug", "x")
    assert org.returncode == 0, org.stderr


async def test_person_token_opens_the_api(cli: Cli) -> None:
    created = await cli("org", "create", "--name", "Example", "--slug", "x")
    assert created.returncode == 0, created.stderr
    assert "x" in created.stdout
    person = (await cli("person", "create", "--org", "x", "--name", "Nora",
                        "--email", "n@x.example", "--role", "VIEWER", "--role", "FINANCE",
                        "--json")).json()
    assert person["organisation"] == "x"
    assert person["email"] == "n@x.example"
    assert sorted(person["roles"]) == ["FINANCE", "VIEWER"]
    assert person["token"]

    body = await cli.graphql(
        "{ viewer { name email roles organisation { name slug } } }", person["token"])
    assert body == {"data": {"viewer": {
        "name": "Nora", "email": "n@x.example", "roles": ["FINANCE", "VIEWER"],
        "organisation": {"name": "Example", "slug": "x"}}}}
    refused = await cli.graphql("{ viewer { name } }", person["token"] + "x")
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_demo_seeds_every_role_and_stage(cli: Cli) -> None:
    demo = (await cli("demo", "--services", "14", "--json")).json()
    people = demo["people"]
    assert {role for person in people for role in person["roles"]} == ALL_ROLES
    assert all(person["token"] for person in people)
    assert len({person["token"] for person in people}) == len(people)

    viewer = next(p for p in people if p["roles"] == ["VIEWER"])
    body = await cli.graphql(
        "{ services(first: 50) { totalCount edges { node { name stage } } } }", viewer["token"])
    assert "errors" not in body, body
    connection = body["data"]["services"]
    assert connection["totalCount"] == 14
    assert len(connection["edges"]) == 14
    assert {edge["node"]["stage"] for edge in connection["edges"]} == ALL_STAGES

    # Each token speaks for its own person and roles.
    for person in people:
        who = await cli.graphql("{ viewer { email roles } }", person["token"])
        assert who["data"]["viewer"] == {"email": person["email"], "roles": person["roles"]}


async def test_demo_once_does_not_seed_twice_nor_issue_tokens(cli: Cli) -> None:
    first = (await cli("demo", "--services", "14", "--json")).json()
    again = (await cli("demo", "--once", "--json")).json()
    assert again["created"] is False and first["created"] is True
    assert again["organisation"] == first["organisation"]
    assert [p["email"] for p in again["people"]] == [p["email"] for p in first["people"]]
    assert all("token" not in person for person in again["people"])
    text = await cli("demo", "--once")
    assert text.returncode == 0, text.stderr
    assert "spm_" not in text.stdout and "spm-api demo tokens" in text.stdout
    body = await cli.graphql("{ services { totalCount } portfolio { total } }",
                             first["people"][0]["token"])
    assert body == {"data": {"services": {"totalCount": 14}, "portfolio": {"total": 14}}}


async def test_demo_tokens_reissues_and_revokes_the_printed_ones(cli: Cli) -> None:
    first = (await cli("demo", "--services", "7", "--json")).json()
    reissued = (await cli("demo", "tokens", "--json")).json()
    assert [p["email"] for p in reissued["people"]] == [p["email"] for p in first["people"]]
    old, new = first["people"][0]["token"], reissued["people"][0]["token"]
    assert old != new
    assert (await cli.graphql("{ portfolio { total } }", new)) == {
        "data": {"portfolio": {"total": 7}}}
    refused = await cli.graphql("{ portfolio { total } }", old)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_demo_tokens_without_a_demo_is_a_clear_error(cli: Cli) -> None:
    result = await cli("demo", "tokens")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "error [NOT_FOUND]: there is no demo organisation yet; run `spm-api demo`"]


async def test_export_schema_matches_the_committed_file(cli: Cli) -> None:
    result = await cli("export-schema")
    assert result.returncode == 0, result.stderr
    assert result.stdout == SCHEMA_FILE.read_text()


async def test_export_schema_to_a_file(cli: Cli) -> None:
    target = cli.cwd / "out.graphql"
    result = await cli("export-schema", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert target.read_text() == SCHEMA_FILE.read_text()


async def test_duplicate_org_is_a_clear_error(cli: Cli) -> None:
    assert (await cli("org", "create", "--name", "X", "--slug", "x")).returncode == 0
    duplicate = await cli("org", "create", "--name", "X again", "--slug", "x")
    assert duplicate.returncode != 0
    assert "error [CONFLICT]" in duplicate.stderr
    assert "Traceback" not in duplicate.stderr
    assert duplicate.stdout == ""


async def test_person_in_an_unknown_org_is_a_clear_error(cli: Cli) -> None:
    result = await cli("person", "create", "--org", "nowhere", "--name", "N",
                       "--email", "n@x.example", "--role", "VIEWER")
    assert result.returncode != 0
    assert "error [NOT_FOUND]" in result.stderr
    assert "Traceback" not in result.stderr


async def test_several_workers_on_the_memory_bus_are_refused(cli: Cli) -> None:
    # SQLite's default bus is in-process memory: other workers would never hear.
    refused = await cli("serve", "--workers", "2", "--port", "1")
    assert refused.returncode == 2
    assert len(refused.stderr.splitlines()) == 1
    assert "error [CONFIGURATION]" in refused.stderr and "SPM_EVENT_BUS" in refused.stderr


async def test_outbox_run_once_delivers_what_is_due(cli: Cli) -> None:
    ran = await cli("outbox", "run", "--once")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "attempted 0 engagement deliveries"
