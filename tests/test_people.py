"""People through GraphQL: admins invite them, grant and revoke roles, deactivate and
reactivate them; the last active admin stays; everyone reads people, the organisation
and the decision makers back."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.relay import from_base64, to_base64

from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org, add_people

INVITE = """
mutation($input: InvitePersonInput!) {
  invitePerson(input: $input) {
    person { id name email roles active deactivatedAt }
    token { id name status expiresAt person { email } }
    secret
    errors { code field message }
  }
}"""

GRANT = """
mutation($input: PersonRoleInput!) {
  grantRole(input: $input) { person { id roles } errors { code field message } }
}"""

REVOKE = """
mutation($input: PersonRoleInput!) {
  revokeRole(input: $input) { person { id roles } errors { code field message } }
}"""

DEACTIVATE = """
mutation($input: PersonInput!) {
  deactivatePerson(input: $input) {
    person { id active deactivatedAt } errors { code field message }
  }
}"""

REACTIVATE = """
mutation($input: PersonInput!) {
  reactivatePerson(input: $input) {
    person { id active deactivatedAt } errors { code field message }
  }
}"""

PEOPLE = """
query($search: String, $roles: [Role!], $all: Boolean! = false, $first: Int, $after: String) {
  people(search: $search, roles: $roles, includeDeactivated: $all, first: $first,
         after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name email roles active } }
  }
}"""

VIEWER = "{ viewer { email roles } }"


def person_id(org: Org, role: Role) -> str:
    return to_base64("Person", org.person_ids[role])


async def invite(api: GraphQLClient, token: str, **fields: Any) -> dict[str, Any]:
    data = await api.data(INVITE, {"input": {
        "name": "Ada Lovelace", "email": "Ada@Acme.example", "roles": ["CONTRIBUTOR"],
        **fields}}, token)
    payload: dict[str, Any] = data["invitePerson"]
    return payload


async def test_an_invited_person_holds_their_roles_and_a_working_token(
        api: GraphQLClient, org: Org) -> None:
    payload = await invite(api, org.token(Role.ADMIN), roles=["CONTRIBUTOR", "FINANCE"],
                           tokenName="laptop")
    assert payload["errors"] == []
    assert payload["person"]["email"] == "ada@acme.example"
    assert payload["person"]["roles"] == ["CONTRIBUTOR", "FINANCE"]
    assert payload["person"]["active"] is True
    assert payload["token"]["name"] == "laptop"
    assert payload["token"]["status"] == "ACTIVE"
    assert payload["token"]["person"] == {"email": "ada@acme.example"}
    secret = payload["secret"]
    assert secret.startswith("spm_")
    assert (await api.data(VIEWER, token=secret))["viewer"] == {
        "email": "ada@acme.example", "roles": ["CONTRIBUTOR", "FINANCE"]}


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN],
                         ids=lambda role: role.value)
async def test_only_admins_manage_people(api: GraphQLClient, org: Org, role: Role) -> None:
    token = org.token(role)
    payload = await invite(api, token)
    assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert payload["person"] is None and payload["secret"] is None
    target = {"personId": person_id(org, Role.VIEWER), "role": "ADMIN"}
    for mutation, field, variables in (
            (GRANT, "grantRole", target), (REVOKE, "revokeRole", target),
            (DEACTIVATE, "deactivatePerson", {"personId": target["personId"]}),
            (REACTIVATE, "reactivatePerson", {"personId": target["personId"]})):
        body = (await api.data(mutation, {"input": variables}, token))[field]
        assert [e["code"] for e in body["errors"]] == ["FORBIDDEN"], field
    listed = await api.data(PEOPLE, {"search": "ada"}, org.token(Role.ADMIN))
    assert listed["people"]["totalCount"] == 0  # nothing was written
    viewer = await api.data(VIEWER, token=org.token(Role.VIEWER))
    assert viewer["viewer"]["roles"] == ["VIEWER"]


@pytest.mark.parametrize(("fields", "code", "field"), [
    ({"roles": []}, "VALIDATION", "roles"),
    ({"email": "not-an-address"}, "VALIDATION", "email"),
    ({"name": "  "}, "VALIDATION", "name"),
    ({"email": "viewer@acme.example"}, "CONFLICT", "email"),
    ({"tokenName": ""}, "VALIDATION", "name"),
    ({"tokenExpiresAt": "2001-01-01T00:00:00+00:00"}, "VALIDATION", "expiresAt"),
], ids=["no-role", "bad-email", "blank-name", "taken-email", "blank-token-name",
        "past-expiry"])
async def test_a_bad_invitation_is_refused_with_nothing_written(
        api: GraphQLClient, org: Org, fields: dict[str, Any], code: str, field: str) -> None:
    payload = await invite(api, org.token(Role.ADMIN), **fields)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert payload["secret"] is None
    everyone = await api.data(PEOPLE, {}, org.token(Role.ADMIN))
    assert everyone["people"]["totalCount"] == len(Role)


async def test_granting_and_revoking_roles_applies_to_the_next_request(
        api: GraphQLClient, org: Org) -> None:
    admin, viewer = org.token(Role.ADMIN), org.token(Role.VIEWER)
    target = person_id(org, Role.VIEWER)
    create = """mutation { createService(input: {name: "X", investmentCategory: RUN}) {
      errors { code } } }"""
    assert (await api.data(create, token=viewer))["createService"]["errors"] == [
        {"code": "FORBIDDEN"}]
    granted = await api.data(GRANT, {"input": {"personId": target, "role": "CONTRIBUTOR"}},
                             admin)
    assert granted["grantRole"] == {"person": {"id": target, "roles": [
        "CONTRIBUTOR", "VIEWER"]}, "errors": []}
    again = await api.data(GRANT, {"input": {"personId": target, "role": "CONTRIBUTOR"}},
                           admin)
    assert again["grantRole"]["person"]["roles"] == ["CONTRIBUTOR", "VIEWER"]
    assert (await api.data(create, token=viewer))["createService"]["errors"] == []
    revoked = await api.data(REVOKE, {"input": {"personId": target, "role": "CONTRIBUTOR"}},
                             admin)
    assert revoked["revokeRole"] == {"person": {"id": target, "roles": ["VIEWER"]},
                                     "errors": []}
    assert (await api.data(create, token=viewer))["createService"]["errors"] == [
        {"code": "FORBIDDEN"}]


async def test_a_person_keeps_one_role(api: GraphQLClient, org: Org) -> None:
    target = person_id(org, Role.VIEWER)
    body = await api.data(REVOKE, {"input": {"personId": target, "role": "VIEWER"}},
                          org.token(Role.ADMIN))
    assert [(e["code"], e["field"]) for e in body["revokeRole"]["errors"]] == [
        ("VALIDATION", "role")]
    assert (await api.data(VIEWER, token=org.token(Role.VIEWER)))["viewer"]["roles"] == [
        "VIEWER"]


async def test_the_last_admin_cannot_lose_the_role_nor_be_deactivated(
        api: GraphQLClient, org: Org, db: AsyncEngine) -> None:
    admin = org.token(Role.ADMIN)
    me = person_id(org, Role.ADMIN)
    await api.data(GRANT, {"input": {"personId": me, "role": "VIEWER"}}, admin)
    revoked = await api.data(REVOKE, {"input": {"personId": me, "role": "ADMIN"}}, admin)
    assert [(e["code"], e["field"]) for e in revoked["revokeRole"]["errors"]] == [
        ("LAST_ADMIN", "personId")]
    deactivated = await api.data(DEACTIVATE, {"input": {"personId": me}}, admin)
    assert [e["code"] for e in deactivated["deactivatePerson"]["errors"]] == ["LAST_ADMIN"]
    assert (await api.data(VIEWER, token=admin))["viewer"]["roles"] == ["ADMIN", "VIEWER"]

    # A deactivated admin does not count: the active one is still the last.
    [second] = await add_people(db, org, 1, [Role.ADMIN], label="admin")
    second_id = (await api.data("{ viewer { id } }", token=second))["viewer"]["id"]
    await api.data(DEACTIVATE, {"input": {"personId": second_id}}, admin)
    still = await api.data(DEACTIVATE, {"input": {"personId": me}}, admin)
    assert [e["code"] for e in still["deactivatePerson"]["errors"]] == ["LAST_ADMIN"]

    # With another active admin, either change is allowed.
    await api.data(REACTIVATE, {"input": {"personId": second_id}}, admin)
    revoked = await api.data(REVOKE, {"input": {"personId": me, "role": "ADMIN"}}, admin)
    assert revoked["revokeRole"] == {"person": {"id": me, "roles": ["VIEWER"]}, "errors": []}
    last = await api.data(DEACTIVATE, {"input": {"personId": second_id}}, second)
    assert [e["code"] for e in last["deactivatePerson"]["errors"]] == ["LAST_ADMIN"]


async def test_a_deactivated_person_is_refused_until_reactivated(
        api: GraphQLClient, org: Org) -> None:
    admin, finance = org.token(Role.ADMIN), org.token(Role.FINANCE)
    target = person_id(org, Role.FINANCE)
    body = await api.data(DEACTIVATE, {"input": {"personId": target}}, admin)
    assert body["deactivatePerson"]["person"]["active"] is False
    assert body["deactivatePerson"]["person"]["deactivatedAt"] is not None
    for query in (VIEWER, "{ portfolio { total } }", "{ services { totalCount } }"):
        refused = await api.execute(query, token=finance)
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["UNAUTHENTICATED"]
    # Deactivating again is no change; the person is still listed with everyone.
    again = await api.data(DEACTIVATE, {"input": {"personId": target}}, admin)
    assert again["deactivatePerson"]["errors"] == []
    active = await api.data(PEOPLE, {"roles": ["FINANCE"]}, admin)
    assert active["people"]["totalCount"] == 0
    everyone = await api.data(PEOPLE, {"roles": ["FINANCE"], "all": True}, admin)
    assert [e["node"]["active"] for e in everyone["people"]["edges"]] == [False]
    back = await api.data(REACTIVATE, {"input": {"personId": target}}, admin)
    assert back["reactivatePerson"]["person"] == {"id": target, "active": True,
                                                  "deactivatedAt": None}
    assert (await api.data(VIEWER, token=finance))["viewer"]["roles"] == ["FINANCE"]


async def test_people_of_another_organisation_are_not_found(
        api: GraphQLClient, org: Org, other_org: Org) -> None:
    theirs = person_id(other_org, Role.VIEWER)
    admin = org.token(Role.ADMIN)
    for mutation, field, variables in (
            (GRANT, "grantRole", {"personId": theirs, "role": "ADMIN"}),
            (DEACTIVATE, "deactivatePerson", {"personId": theirs}),
            (DEACTIVATE, "deactivatePerson", {"personId": "not-an-id"})):
        body = (await api.data(mutation, {"input": variables}, admin))[field]
        assert [(e["code"], e["field"]) for e in body["errors"]] == [
            ("NOT_FOUND", "personId")], field
    assert (await api.data(VIEWER, token=other_org.token(Role.VIEWER)))["viewer"][
        "roles"] == ["VIEWER"]
    read = await api.data("query($id: ID!) { person(id: $id) { id } }", {"id": theirs}, admin)
    assert read == {"person": None}


async def test_people_search_matches_name_or_email_in_any_case_prefix_first(
        api: GraphQLClient, org: Org) -> None:
    admin = org.token(Role.ADMIN)
    for name, email in (("Zoe Hart", "zoe@acme.example"), ("Hartmut Weber", "hw@acme.example"),
                        ("Ann Lee", "ann.hart@acme.example")):
        assert (await invite(api, admin, name=name, email=email))["errors"] == []
    found = await api.data(PEOPLE, {"search": "HART"}, org.token(Role.VIEWER))
    names = [edge["node"]["name"] for edge in found["people"]["edges"]]
    # Those whose name or address starts with the term first, then by name.
    assert names == ["Hartmut Weber", "Ann Lee", "Zoe Hart"]
    assert found["people"]["totalCount"] == 3
    by_role = await api.data(PEOPLE, {"search": "of acme", "roles": ["ADMIN", "FINANCE"]},
                             admin)
    assert [(e["node"]["name"], e["node"]["roles"]) for e in by_role["people"]["edges"]] == [
        ("Admin of acme", ["ADMIN"]), ("Finance of acme", ["FINANCE"])]
    assert (await api.data(PEOPLE, {"search": "100%_"}, admin))["people"]["totalCount"] == 0


async def test_people_page_through_everyone_once(api: GraphQLClient, org: Org,
                                                 other_org: Org) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = (await api.data(PEOPLE, {"first": 4, "after": after},
                               org.token(Role.VIEWER)))["people"]
        seen += [edge["node"]["email"] for edge in page["edges"]]
        assert page["totalCount"] == len(Role)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(f"{role.value.lower()}@acme.example" for role in Role)
    assert len(seen) == len(set(seen))


async def test_person_viewer_organisation_and_decision_makers_read_back(
        api: GraphQLClient, org: Org, db: AsyncEngine) -> None:
    viewer = org.token(Role.VIEWER)
    pid = person_id(org, Role.DECISION_MAKER)
    person = await api.data(
        "query($id: ID!) { person(id: $id) { id name roles active createdAt } }",
        {"id": pid}, viewer)
    assert person["person"]["roles"] == ["DECISION_MAKER"]
    assert person["person"]["active"] is True and person["person"]["createdAt"]
    organisation = await api.data(
        "{ organisation { id name slug currency fiscalYearStartMonth createdAt } }",
        token=viewer)
    assert organisation["organisation"]["name"] == "Organisation acme"
    assert organisation["organisation"]["currency"] == "EUR"
    assert organisation["organisation"]["fiscalYearStartMonth"] == 1
    changed = await api.data("""mutation { updateOrganisationSettings(input: {
      currency: "CHF", fiscalYearStartMonth: 4 }) { errors { code } } }""",
                             token=org.token(Role.ADMIN))
    assert changed["updateOrganisationSettings"]["errors"] == []
    again = await api.data("{ organisation { currency fiscalYearStartMonth } }", token=viewer)
    assert again["organisation"] == {"currency": "CHF", "fiscalYearStartMonth": 4}

    await add_people(db, org, 1, [Role.DECISION_MAKER, Role.FINANCE])
    deciders = "{ decisionMakers { totalCount edges { node { name roles } } } }"
    listed = await api.data(deciders, token=viewer)
    assert listed["decisionMakers"] == {"totalCount": 2, "edges": [
        {"node": {"name": "Decider 1", "roles": ["DECISION_MAKER", "FINANCE"]}},
        {"node": {"name": "Decision_Maker of acme", "roles": ["DECISION_MAKER"]}}]}
    await api.data(DEACTIVATE, {"input": {"personId": pid}}, org.token(Role.ADMIN))
    listed = await api.data(deciders, token=viewer)
    assert [e["node"]["name"] for e in listed["decisionMakers"]["edges"]] == ["Decider 1"]


@pytest.mark.parametrize("change", ["deactivate", "revoke"])
async def test_two_admins_removing_each_other_at_once_leave_one(
        api: GraphQLClient, org: Org, db: AsyncEngine, change: str) -> None:
    """The active admins' rows are locked while the last admin is counted: of two admins
    removing each other at the same moment, the second waits for the first to commit,
    then counts again and gets LAST_ADMIN. (On SQLite writers wait for each other's
    whole transaction: no race to test.)"""
    import asyncio

    from spm_api.db.engine import create_session_factory
    from spm_api.domain.access import people
    from spm_api.domain.actor import Actor
    from spm_api.vocabulary.errors import DomainError

    if db.url.get_backend_name() == "sqlite":
        pytest.skip("concurrent writers are exercised on PostgreSQL")
    [token] = await add_people(db, org, 1, [Role.ADMIN, Role.VIEWER], label="admin")
    first = org.person_ids[Role.ADMIN]
    second = int(from_base64((await api.data("{ viewer { id } }", token=token))["viewer"][
        "id"])[1])
    if change == "revoke":
        await api.data(GRANT, {"input": {"personId": person_id(org, Role.ADMIN),
                                         "role": "VIEWER"}}, org.token(Role.ADMIN))

    def remove(session: Any, by: int, whom: int) -> Any:
        actor = Actor(person_id=by, organisation_id=org.id, roles=frozenset({Role.ADMIN}))
        if change == "revoke":
            return people.revoke_role(session, actor, whom, Role.ADMIN)
        return people.deactivate_person(session, actor, whom)

    sessions = create_session_factory(db)
    async with sessions() as one, sessions() as two:
        await remove(one, first, second)  # holds the admins' rows
        racing = asyncio.create_task(remove(two, second, first))
        await asyncio.sleep(0.5)
        assert not racing.done()  # waiting for the lock
        await one.commit()
        with pytest.raises(DomainError) as refused:
            await racing
        assert [p.code.value for p in refused.value.problems] == ["LAST_ADMIN"]
        await two.rollback()
    admins = await api.data(PEOPLE, {"roles": ["ADMIN"]}, org.token(Role.ADMIN))
    assert [e["node"]["email"] for e in admins["people"]["edges"]] == ["admin@acme.example"]


PEOPLE_PAGES = [
    "{ people(first: 50) { totalCount edges { node { name email roles active "
    "organisation { name } } } } }",
    "{ decisionMakers(first: 50) { totalCount edges { node { name roles } } } }",
    "{ tokens(first: 50) { totalCount edges { node { name status person { name roles } } } } }",
]


async def test_people_pages_cost_the_same_statements_for_few_or_many(
        api: GraphQLClient, org: Org, db: AsyncEngine) -> None:
    from spm_api.db.engine import create_session_factory
    from spm_api.domain.tokens import issue_token
    from tests.test_batching import count_statements

    admin = org.token(Role.ADMIN)

    async def statements() -> list[int]:
        counts = []
        for page in PEOPLE_PAGES:
            with count_statements(db) as counted:
                await api.data(page, token=admin)
            counts.append(len(counted))
        return counts

    few = await statements()
    await add_people(db, org, 60, [Role.DECISION_MAKER, Role.CONTRIBUTOR])
    async with create_session_factory(db)() as session, session.begin():
        for _ in range(60):
            await issue_token(session, org.person_ids[Role.ADMIN], label="more")
    for page, field in zip(PEOPLE_PAGES, ("people", "decisionMakers", "tokens"), strict=True):
        assert len((await api.data(page, token=admin))[field]["edges"]) == 50, field
    assert await statements() == few
