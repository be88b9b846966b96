"""People and tokens from the command line: the same rules as through GraphQL (the
operator acts as an admin of the organisation), refusals printed with their code and
exit status 2, and what the commands change seen by the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_cli import Cli, cli, migrated  # noqa: F401  (fixtures)

ORG = ("--org", "x")


@pytest.fixture
async def people(cli: Cli) -> dict[str, str]:  # noqa: F811
    """An organisation ``x`` with an admin and a viewer; their tokens by e-mail."""
    assert (await cli("org", "create", "--name", "X", "--slug", "x")).returncode == 0
    tokens = {}
    for name, email, role in (("Root", "root@x.example", "ADMIN"),
                              ("Bea", "bea@x.example", "VIEWER")):
        created = (await cli("person", "create", *ORG, "--name", name, "--email", email,
                             "--role", role, "--json")).json()
        tokens[email] = created["token"]
    return tokens


async def viewer(cli: Cli, token: str) -> Any:  # noqa: F811
    body = await cli.graphql("{ viewer { email roles } }", token)
    return body.get("data", {}).get("viewer") if not body.get("errors") else (
        body["errors"][0]["extensions"]["code"])


async def test_people_are_listed_granted_revoked_and_deactivated(
        cli: Cli, people: dict[str, str]) -> None:  # noqa: F811
    listed = (await cli("person", "list", *ORG, "--json")).json()
    assert [(p["email"], p["roles"], p["active"]) for p in listed] == [
        ("bea@x.example", ["VIEWER"], True), ("root@x.example", ["ADMIN"], True)]
    searched = (await cli("person", "list", *ORG, "--search", "ROO", "--json")).json()
    assert [p["email"] for p in searched] == ["root@x.example"]

    granted = await cli("person", "grant", *ORG, "--email", "Bea@x.example", "--role", "ADMIN")
    assert granted.returncode == 0, granted.stderr
    assert "ADMIN, VIEWER" in granted.stdout
    assert await viewer(cli, people["bea@x.example"]) == {
        "email": "bea@x.example", "roles": ["ADMIN", "VIEWER"]}
    revoked = await cli("person", "revoke-role", *ORG, "--email", "bea@x.example",
                        "--role", "ADMIN")
    assert revoked.returncode == 0, revoked.stderr

    deactivated = await cli("person", "deactivate", *ORG, "--email", "bea@x.example")
    assert deactivated.returncode == 0, deactivated.stderr
    assert "[deactivated]" in deactivated.stdout
    assert await viewer(cli, people["bea@x.example"]) == "UNAUTHENTICATED"
    active = (await cli("person", "list", *ORG, "--json")).json()
    assert [p["email"] for p in active] == ["root@x.example"]
    everyone = (await cli("person", "list", *ORG, "--all", "--json")).json()
    assert [p["active"] for p in everyone] == [False, True]
    reactivated = await cli("person", "reactivate", *ORG, "--email", "bea@x.example")
    assert reactivated.returncode == 0, reactivated.stderr
    assert await viewer(cli, people["bea@x.example"]) == {
        "email": "bea@x.example", "roles": ["VIEWER"]}


REFUSALS: list[tuple[tuple[str, ...], str]] = [
    (("person", "deactivate", *ORG, "--email", "root@x.example"), "error [LAST_ADMIN]: "),
    (("person", "revoke-role", *ORG, "--email", "root@x.example", "--role", "ADMIN"),
     "error [LAST_ADMIN]: "),
    (("person", "revoke-role", *ORG, "--email", "bea@x.example", "--role", "VIEWER"),
     "error [VALIDATION]: VIEWER is the person's only role"),
    (("person", "grant", *ORG, "--email", "nobody@x.example", "--role", "ADMIN"),
     "error [NOT_FOUND]: no person 'nobody@x.example'"),
    (("person", "list", "--org", "nowhere"), "error [NOT_FOUND]: no organisation"),
    (("token", "create", *ORG, "--email", "bea@x.example", "--name", "ci",
      "--expires-at", "2020-01-01T00:00:00Z"), "error [VALIDATION]: the expiry must be"),
    (("token", "create", *ORG, "--email", "bea@x.example", "--name", "ci",
      "--expires-at", "2999-01-01"), "error [VALIDATION]: give the expiry with its time"),
    (("token", "create", *ORG, "--email", "bea@x.example", "--name", " "),
     "error [VALIDATION]: name must not be blank"),
    (("token", "create", *ORG, "--email", "bea@x.example", "--name", "ci",
      "--expires-at", "soon"), "is not an ISO 8601 instant"),
    (("token", "create", *ORG, "--email", "bea@x.example", "--name", "ci",
      "--expires-in-days", "0"), "is not a whole number above 0"),
    (("token", "revoke", *ORG, "--id", "999"), "error [NOT_FOUND]: no such token"),
    (("person", "grant", *ORG, "--email", "bea@x.example", "--role", "KING"),
     "invalid Role value: 'KING'"),
]


async def test_refusals_exit_2_with_their_code_and_change_nothing(
        cli: Cli, people: dict[str, str]) -> None:  # noqa: F811
    for arguments, message in REFUSALS:
        result = await cli(*arguments)
        assert result.returncode == 2, (arguments, result.stdout, result.stderr)
        assert message in result.stderr, (arguments, result.stderr)
    listed = (await cli("person", "list", *ORG, "--all", "--json")).json()
    assert [(p["email"], p["roles"], p["active"]) for p in listed] == [
        ("bea@x.example", ["VIEWER"], True), ("root@x.example", ["ADMIN"], True)]
    assert (await cli("token", "list", *ORG, "--email", "bea@x.example", "--json")).json(
        )[0]["name"] == "cli"
    assert await viewer(cli, people["root@x.example"]) == {
        "email": "root@x.example", "roles": ["ADMIN"]}
    assert await viewer(cli, people["bea@x.example"]) == {
        "email": "bea@x.example", "roles": ["VIEWER"]}


async def test_tokens_are_created_listed_rotated_and_revoked(
        cli: Cli, people: dict[str, str]) -> None:  # noqa: F811
    created = (await cli("token", "create", *ORG, "--email", "bea@x.example", "--name", "ci",
                         "--expires-in-days", "30", "--json")).json()
    assert created["name"] == "ci" and created["status"] == "ACTIVE"
    assert created["expires_at"] is not None
    secret = created["secret"]
    assert await viewer(cli, secret) == {"email": "bea@x.example", "roles": ["VIEWER"]}

    listed = await cli("token", "list", *ORG, "--email", "bea@x.example")
    assert listed.returncode == 0, listed.stderr
    assert f"token {created['id']} 'ci' of bea@x.example: ACTIVE, expires" in listed.stdout
    assert "'cli' of bea@x.example: ACTIVE, no expiry" in listed.stdout
    assert "spm_" not in listed.stdout  # metadata only, never a secret
    as_json = (await cli("token", "list", *ORG, "--email", "bea@x.example", "--json")).json()
    assert [token["name"] for token in as_json] == ["ci", "cli"]
    assert all("secret" not in token for token in as_json)

    rotated = await cli("token", "rotate", *ORG, "--id", str(created["id"]))
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.split("secret (shown only now): ")[1].strip()
    assert await viewer(cli, secret) == "UNAUTHENTICATED"
    assert await viewer(cli, new) == {"email": "bea@x.example", "roles": ["VIEWER"]}

    revoked = await cli("token", "revoke", *ORG, "--id", str(created["id"]))
    assert revoked.returncode == 0, revoked.stderr
    assert "REVOKED" in revoked.stdout
    assert await viewer(cli, new) == "UNAUTHENTICATED"
    again = await cli("token", "rotate", *ORG, "--id", str(created["id"]))
    assert again.returncode == 2
    assert "error [TOKEN_REVOKED]: " in again.stderr
    # The person's other token is untouched.
    assert await viewer(cli, people["bea@x.example"]) == {
        "email": "bea@x.example", "roles": ["VIEWER"]}


async def test_help_shows_defaults_and_exit_statuses(cli: Cli) -> None:  # noqa: F811
    for command in (("person", "list"), ("person", "deactivate"), ("token", "create"),
                    ("token", "rotate")):
        result = await cli(*command, "--help")
        assert result.returncode == 0, result.stderr
        assert "exit status: 0 done" in " ".join(result.stdout.split())
