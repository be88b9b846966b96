"""API tokens through GraphQL: created with a name and an expiry, the secret shown once;
listed as metadata; rotated (the old secret refused at once) and revoked; expired tokens
refused; only their owner and admins see or touch them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.relay import to_base64

from spm_api.models import ApiToken
from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org

CREATE = """
mutation($input: CreateTokenInput!) {
  createToken(input: $input) {
    token { id name status createdAt expiresAt revokedAt rotatedAt person { email } }
    secret
    errors { code field message }
  }
}"""

ROTATE = """
mutation($id: ID!) {
  rotateToken(input: {tokenId: $id}) {
    token { id name status expiresAt rotatedAt } secret errors { code field message }
  }
}"""

REVOKE = """
mutation($id: ID!) {
  revokeToken(input: {tokenId: $id}) {
    token { id status revokedAt } errors { code field message }
  }
}"""

TOKENS = """
query($person: ID, $first: Int, $after: String) {
  tokens(personId: $person, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name status expiresAt revokedAt person { email } } }
  }
}"""

VIEWER = "{ viewer { email } }"


def in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def person_id(org: Org, role: Role) -> str:
    return to_base64("Person", org.person_ids[role])


async def create(api: GraphQLClient, token: str, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(CREATE, {"input": {"name": "ci", **fields}},
                                              token))["createToken"]
    return payload


def refused(body: dict[str, Any]) -> bool:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []] == [
        "UNAUTHENTICATED"]


async def test_a_token_is_created_with_a_name_and_expiry_and_its_secret_once(
        api: GraphQLClient, org: Org, db: AsyncEngine) -> None:
    expiry = in_days(30)
    payload = await create(api, org.token(Role.FINANCE), name="  reporting job ",
                           expiresAt=expiry)
    assert payload["errors"] == []
    token, secret = payload["token"], payload["secret"]
    assert token["name"] == "reporting job"
    assert token["status"] == "ACTIVE"
    assert datetime.fromisoformat(token["expiresAt"]) == datetime.fromisoformat(expiry)
    assert token["revokedAt"] is None and token["rotatedAt"] is None
    assert token["person"] == {"email": "finance@acme.example"}
    assert (await api.data(VIEWER, token=secret))["viewer"] == {
        "email": "finance@acme.example"}
    # Stored hashed: the secret itself is nowhere in the table.
    async with db.connect() as connection:
        stored = (await connection.execute(select(ApiToken.token_hash))).scalars().all()
    assert secret not in stored
    assert hashlib.sha256(secret.encode()).hexdigest() in stored
    # Listed as metadata: no field of any listing holds the secret.
    listed = await api.data(TOKENS, {}, secret)
    assert secret not in str(listed)
    assert [edge["node"]["name"] for edge in listed["tokens"]["edges"]] == [
        "reporting job", ""]  # newest first; the one make_org issued has no name
    node = await api.data("query($id: ID!) { node(id: $id) { ... on ApiToken { name } } }",
                          {"id": token["id"]}, secret)
    assert node == {"node": {"name": "reporting job"}}


@pytest.mark.parametrize(("fields", "code", "field"), [
    ({"name": " "}, "VALIDATION", "name"),
    ({"name": "x" * 201}, "VALIDATION", "name"),
    ({"expiresAt": "2020-01-01T00:00:00+00:00"}, "VALIDATION", "expiresAt"),
    ({"expiresAt": "2999-01-01T00:00:00"}, "VALIDATION", "expiresAt"),
    ({"personId": "bogus"}, "NOT_FOUND", "personId"),
], ids=["blank-name", "long-name", "past-expiry", "no-time-zone", "bad-person"])
async def test_a_bad_token_request_is_refused(api: GraphQLClient, org: Org,
                                              fields: dict[str, Any], code: str,
                                              field: str) -> None:
    payload = await create(api, org.token(Role.ADMIN), **fields)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert payload["secret"] is None and payload["token"] is None
    listed = await api.data(TOKENS, {}, org.token(Role.ADMIN))
    assert listed["tokens"]["totalCount"] == 1


async def test_rotation_refuses_the_old_secret_at_once(api: GraphQLClient, org: Org) -> None:
    created = await create(api, org.token(Role.VIEWER), name="phone", expiresAt=in_days(7))
    old = created["secret"]
    rotated = (await api.data(ROTATE, {"id": created["token"]["id"]}, old))["rotateToken"]
    assert rotated["errors"] == []
    new = rotated["secret"]
    assert new != old and new.startswith("spm_")
    assert rotated["token"]["id"] == created["token"]["id"]
    assert rotated["token"]["name"] == "phone"
    assert rotated["token"]["expiresAt"] == created["token"]["expiresAt"]
    assert rotated["token"]["rotatedAt"] is not None
    assert refused(await api.execute(VIEWER, token=old))
    assert refused(await api.execute("{ portfolio { total } }", token=old))
    assert (await api.data(VIEWER, token=new))["viewer"] == {"email": "viewer@acme.example"}


async def test_a_revoked_token_is_refused_and_cannot_be_rotated(
        api: GraphQLClient, org: Org) -> None:
    created = await create(api, org.token(Role.CONTRIBUTOR))
    secret, token_id = created["secret"], created["token"]["id"]
    revoked = (await api.data(REVOKE, {"id": token_id}, org.token(Role.CONTRIBUTOR)))[
        "revokeToken"]
    assert revoked["errors"] == []
    assert revoked["token"]["status"] == "REVOKED" and revoked["token"]["revokedAt"]
    assert refused(await api.execute(VIEWER, token=secret))
    again = (await api.data(REVOKE, {"id": token_id}, org.token(Role.CONTRIBUTOR)))[
        "revokeToken"]
    assert again["errors"] == [] and again["token"]["revokedAt"] == revoked["token"][
        "revokedAt"]
    rotate = (await api.data(ROTATE, {"id": token_id}, org.token(Role.CONTRIBUTOR)))[
        "rotateToken"]
    assert [(e["code"], e["field"]) for e in rotate["errors"]] == [("TOKEN_REVOKED", "tokenId")]
    assert rotate["secret"] is None
    assert refused(await api.execute(VIEWER, token=secret))
    # The owner's other token still works.
    assert (await api.data(VIEWER, token=org.token(Role.CONTRIBUTOR)))["viewer"]


async def test_a_token_can_revoke_itself(api: GraphQLClient, org: Org) -> None:
    created = await create(api, org.token(Role.VIEWER))
    body = await api.data(REVOKE, {"id": created["token"]["id"]}, created["secret"])
    assert body["revokeToken"]["errors"] == []
    assert refused(await api.execute(VIEWER, token=created["secret"]))


async def test_an_expired_token_is_refused_and_cannot_be_rotated(
        api: GraphQLClient, org: Org, db: AsyncEngine) -> None:
    created = await create(api, org.token(Role.VIEWER), expiresAt=in_days(1))
    secret, token_id = created["secret"], created["token"]["id"]
    assert (await api.data(VIEWER, token=secret))["viewer"]
    async with db.begin() as connection:  # a day passes
        await connection.execute(update(ApiToken).where(
            ApiToken.label == "ci").values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert refused(await api.execute(VIEWER, token=secret))
    listed = await api.data(TOKENS, {}, org.token(Role.VIEWER))
    assert [e["node"]["status"] for e in listed["tokens"]["edges"]] == ["EXPIRED", "ACTIVE"]
    rotate = (await api.data(ROTATE, {"id": token_id}, org.token(Role.VIEWER)))["rotateToken"]
    assert [e["code"] for e in rotate["errors"]] == ["TOKEN_EXPIRED"]
    assert refused(await api.execute(VIEWER, token=secret))


async def test_a_colleagues_tokens_are_theirs_and_the_admins(
        api: GraphQLClient, org: Org) -> None:
    mine = await create(api, org.token(Role.FINANCE), name="mine")
    token_id = mine["token"]["id"]
    colleague = org.token(Role.PORTFOLIO_MANAGER)
    for mutation, field in ((ROTATE, "rotateToken"), (REVOKE, "revokeToken")):
        body = (await api.data(mutation, {"id": token_id}, colleague))[field]
        assert [e["code"] for e in body["errors"]] == ["FORBIDDEN"], field
    listing = await api.execute(TOKENS, {"person": person_id(org, Role.FINANCE)}, colleague)
    assert [(e["extensions"]["code"], e["path"]) for e in listing["errors"]] == [
        ("FORBIDDEN", ["tokens"])]
    node = await api.data("query($id: ID!) { node(id: $id) { id } }", {"id": token_id},
                          colleague)
    assert node == {"node": None}
    created = await create(api, colleague, personId=person_id(org, Role.FINANCE))
    assert [e["code"] for e in created["errors"]] == ["FORBIDDEN"]
    assert (await api.data(VIEWER, token=mine["secret"]))["viewer"]

    # An admin lists, issues and revokes anyone's tokens.
    admin = org.token(Role.ADMIN)
    listed = await api.data(TOKENS, {"person": person_id(org, Role.FINANCE)}, admin)
    assert [e["node"]["name"] for e in listed["tokens"]["edges"]] == ["mine", ""]
    issued = await create(api, admin, name="for finance", personId=person_id(org, Role.FINANCE))
    assert issued["token"]["person"] == {"email": "finance@acme.example"}
    assert (await api.data(VIEWER, token=issued["secret"]))["viewer"] == {
        "email": "finance@acme.example"}
    body = (await api.data(REVOKE, {"id": token_id}, admin))["revokeToken"]
    assert body["errors"] == []
    assert refused(await api.execute(VIEWER, token=mine["secret"]))


async def test_another_organisations_tokens_are_not_found(
        api: GraphQLClient, org: Org, other_org: Org) -> None:
    theirs = await create(api, other_org.token(Role.VIEWER))
    admin = org.token(Role.ADMIN)
    for mutation, field in ((ROTATE, "rotateToken"), (REVOKE, "revokeToken")):
        body = (await api.data(mutation, {"id": theirs["token"]["id"]}, admin))[field]
        assert [(e["code"], e["field"]) for e in body["errors"]] == [
            ("NOT_FOUND", "tokenId")], field
    issued = await create(api, admin, personId=person_id(other_org, Role.VIEWER))
    assert [e["code"] for e in issued["errors"]] == ["NOT_FOUND"]
    listed = await api.data(TOKENS, {"person": person_id(other_org, Role.VIEWER)}, admin)
    assert listed["tokens"]["totalCount"] == 0
    assert (await api.data(VIEWER, token=theirs["secret"]))["viewer"]


async def test_no_token_is_issued_to_a_deactivated_person(api: GraphQLClient,
                                                          org: Org) -> None:
    admin = org.token(Role.ADMIN)
    target = person_id(org, Role.VIEWER)
    await api.data("mutation($id: ID!) { deactivatePerson(input: {personId: $id}) "
                   "{ errors { code } } }", {"id": target}, admin)
    issued = await create(api, admin, personId=target)
    assert [(e["code"], e["field"]) for e in issued["errors"]] == [
        ("PERSON_DEACTIVATED", "personId")]


async def test_tokens_page_through(api: GraphQLClient, org: Org) -> None:
    viewer = org.token(Role.VIEWER)
    for number in range(5):
        await create(api, viewer, name=f"t{number}")
    first = (await api.data(TOKENS, {"first": 4}, viewer))["tokens"]
    assert first["totalCount"] == 6 and first["pageInfo"]["hasNextPage"]
    rest = (await api.data(TOKENS, {"first": 4, "after": first["pageInfo"]["endCursor"]},
                           viewer))["tokens"]
    names = [e["node"]["name"] for e in first["edges"] + rest["edges"]]
    assert names == ["t4", "t3", "t2", "t1", "t0", ""]


async def test_unauthenticated_token_fields_are_refused(api: GraphQLClient) -> None:
    for query in (TOKENS, "{ people { totalCount } }", "{ organisation { name } }",
                  "{ decisionMakers { totalCount } }"):
        assert refused(await api.execute(query))
    body = await api.execute(CREATE, {"input": {"name": "x"}})
    assert refused(body)
