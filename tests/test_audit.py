"""The audit trail: every change recorded in its own transaction, read by admins a
keyset page at a time, secrets masked, rows immutable (on PostgreSQL by a trigger)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry import relay

from spm_api.app import create_app
from spm_api.db.engine import create_session_factory
from spm_api.domain import audit
from spm_api.domain import session as unit
from spm_api.domain.actor import Actor
from spm_api.domain.finance.imports import import_costs
from spm_api.domain.portfolio.services import update_service
from spm_api.models import AuditEvent
from spm_api.models.portfolio import ImmutableRecordError
from spm_api.plugins import hookimpl
from spm_api.plugins.contracts import ContractorIntegration, EngagementRequest
from spm_api.plugins.host import PluginHost
from spm_api.plugins.manager import build_plugin_manager
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from spm_api.vocabulary.errors import DomainError, ErrorCode, fail
from tests.support import GraphQLClient, Org, Portfolio, make_org, serve_api

TRAIL = """
query($filter: AuditEventFilter, $first: Int! = 50, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node {
      id at person { id } personName entityKind entityId action before after via
    } }
  }
}"""

SECRET = "s3cr3t-contractor-token-0123456789"
NEW_SECRET = "n3w-contractor-token-9876543210"


class Vault:
    """A contractor integration whose settings carry an access token."""

    @hookimpl
    def spm_contractor_integrations(self) -> list[ContractorIntegration]:
        async def send(_request: EngagementRequest) -> None:
            raise AssertionError("no engagement is sent in these tests")

        return [ContractorIntegration(name="vault", title="Vault", description="for tests",
                                      send_engagement=send)]


@pytest.fixture
async def api(db: AsyncEngine, settings: Settings) -> AsyncIterator[GraphQLClient]:
    """The built-in plugins and the ``vault`` contractor integration."""
    manager = build_plugin_manager(frozenset())
    manager.register(Vault(), name="vault")
    host = PluginHost(manager, timeout=2.0)
    bus = EventBus("memory://")
    async with serve_api(create_app(settings, engine=db, plugins=host, bus=bus)) as client:
        yield client
    await bus.disconnect()
    host.close()


def person_gid(org: Org, role: Role) -> str:
    return str(relay.GlobalID("Person", str(org.person_ids[role])))


async def trail(api: GraphQLClient, org: Org, **where: Any) -> list[dict[str, Any]]:
    """Every event matching ``where``, newest first."""
    data = await api.data(TRAIL, {"filter": where or None}, org.token(Role.ADMIN))
    return [edge["node"] for edge in data["auditEvents"]["edges"]]


async def ok(api: GraphQLClient, org: Org, role: Role, query: str, variables: dict[str, Any],
             field: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(query, variables, org.token(role)))[field]
    assert payload["errors"] == [], payload["errors"]
    return payload


async def test_service_edits_requirements_and_stage_changes_are_recorded(
        api: GraphQLClient, org: Org, portfolio: Portfolio) -> None:
    service = await portfolio.create("Hosting", objectives="host")
    await ok(api, org, Role.CONTRIBUTOR, """
        mutation($input: UpdateServiceInput!) { updateService(input: $input) {
          errors { code field message } } }""",
             {"input": {"serviceId": service["id"], "name": "Hosting 2", "summary": ""}},
             "updateService")
    requirement = await portfolio.add_requirement(service["id"], "Backups nightly")
    await portfolio.add_requirement(service["id"], "Restores in an hour")
    moved = await portfolio.transition(service["id"], "ANALYSIS")
    assert moved["errors"] == []
    await portfolio.assess(requirement)

    about_service = await trail(api, org, entityId=service["id"])
    assert [(e["entityKind"], e["action"]) for e in about_service] == [
        ("SERVICE", "STAGE_CHANGED"), ("SERVICE", "UPDATED"), ("SERVICE", "CREATED")]
    moved_event, updated, created = about_service
    assert created["before"] is None
    assert created["after"]["name"] == "Hosting" and created["after"]["stage"] == "DEFINITION"
    assert created["personName"] == "Contributor of acme"
    assert created["person"] == {"id": person_gid(org, Role.CONTRIBUTOR)}
    # only what changed: the summary was "" already
    assert (updated["before"], updated["after"]) == ({"name": "Hosting"}, {"name": "Hosting 2"})
    assert moved_event["before"] == {"stage": "DEFINITION"}
    assert moved_event["after"]["stage"] == "ANALYSIS"
    assert moved_event["personName"] == "Portfolio_Manager of acme"

    [judged, added] = await trail(api, org, entityId=requirement)
    assert added["action"] == "CREATED" and added["after"]["text"] == "Backups nightly"
    assert judged["action"] == "UPDATED"
    assert judged["before"]["necessity"] == "UNASSESSED"
    assert judged["after"]["necessity"] == "NECESSARY"
    assert judged["entityId"] == requirement


BUDGET = """
mutation($input: SetBudgetLineInput!) { setBudgetLine(input: $input) {
  budgetLine { id } errors { code field message } } }"""
REMOVE_BUDGET = """
mutation($id: ID!) { removeBudgetLine(input: {budgetLineId: $id}) {
  errors { code field message } } }"""
COST = """
mutation($input: RecordCostInput!) { recordCost(input: $input) {
  costEntry { id } errors { code field message } } }"""
CUSTOMER = """
mutation($input: CreateCustomerInput!) { createCustomer(input: $input) {
  customer { id } errors { code field message } } }"""
USAGE = """
mutation($input: RecordUsageInput!) { recordUsage(input: $input) {
  errors { code field message } } }"""
POLICY = """
mutation($input: SetChargingPolicyInput!) { setChargingPolicy(input: $input) {
  errors { code field message } } }"""


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


async def test_budgets_costs_usage_and_charging_policies_are_recorded(
        api: GraphQLClient, org: Org, portfolio: Portfolio) -> None:
    finance = Role.FINANCE
    service_id = (await portfolio.create("Hosting"))["id"]
    line = {"serviceId": service_id, "period": "2026-03", "category": "labour"}
    first = await ok(api, org, finance, BUDGET, {"input": {**line, "amount": eur("100.00")}},
                     "setBudgetLine")
    await ok(api, org, finance, BUDGET, {"input": {**line, "amount": eur("120.50")}},
             "setBudgetLine")
    line_id = first["budgetLine"]["id"]
    await ok(api, org, finance, REMOVE_BUDGET, {"id": line_id}, "removeBudgetLine")
    removed, changed, planned = await trail(api, org, entityKind="BUDGET_LINE")
    assert {e["entityId"] for e in (removed, changed, planned)} == {line_id}
    assert (planned["action"], planned["before"]) == ("CREATED", None)
    assert planned["after"]["amount"] == "100" and planned["after"]["period"] == "2026-03"
    assert (changed["before"], changed["after"]) == ({"amount": "100"}, {"amount": "120.5"})
    assert (removed["action"], removed["after"]) == ("DELETED", None)
    assert removed["before"]["amount"] == "120.5"
    assert planned["personName"] == "Finance of acme"

    cost = await ok(api, org, finance, COST, {"input": {
        "serviceId": service_id, "bookedOn": "2026-03-05", "category": "labour",
        "amount": eur("42.10"), "description": "invoice 7"}}, "recordCost")
    [booked] = await trail(api, org, entityKind="COST_ENTRY")
    assert booked["entityId"] == cost["costEntry"]["id"]
    assert booked["after"]["amount"] == "42.1" and booked["after"]["description"] == "invoice 7"

    customer = await ok(api, org, finance, CUSTOMER, {"input": {
        "name": "Sales", "kind": "INTERNAL_DEPARTMENT"}}, "createCustomer")
    await ok(api, org, finance, USAGE, {"input": {
        "customerId": customer["customer"]["id"], "serviceId": service_id,
        "period": "2026-03", "quantity": "12.5", "unit": "GB"}}, "recordUsage")
    [used] = await trail(api, org, entityKind="USAGE_RECORD")
    assert used["action"] == "CREATED"
    assert (used["after"]["quantity"], used["after"]["unit"]) == ("12.5", "GB")

    await ok(api, org, finance, POLICY, {"input": {
        "serviceId": service_id, "model": "cost_recovery", "parameters": {}}},
        "setChargingPolicy")
    await ok(api, org, finance, POLICY, {"input": {
        "serviceId": service_id, "model": "cost_plus", "parameters": {"markup_percent": "10"}}},
        "setChargingPolicy")
    changed_policy, chosen = await trail(api, org, entityKind="CHARGING_POLICY")
    assert chosen["entityId"] == service_id  # a policy is its service's
    assert (chosen["action"], chosen["after"]["model"], chosen["via"]) == (
        "CREATED", "cost_recovery", "cost_recovery")
    assert changed_policy["before"]["model"] == "cost_recovery"
    assert changed_policy["after"]["model"] == "cost_plus"
    assert changed_policy["via"] == "cost_plus"
    assert "markup_percent" in changed_policy["after"]["parameters"]


async def test_the_books_settings_customers_and_categories_are_recorded(
        api: GraphQLClient, org: Org) -> None:
    settings = """mutation($input: UpdateOrganisationSettingsInput!) {
      updateOrganisationSettings(input: $input) { errors { code field message } } }"""
    category = """mutation($input: AddCostCategoryInput!) {
      addCostCategory(input: $input) { errors { code field message } } }"""
    await ok(api, org, Role.ADMIN, settings, {"input": {
        "currency": "CHF", "fiscalYearStartMonth": 1}}, "updateOrganisationSettings")
    [books] = await trail(api, org, entityKind="ORGANISATION")  # the month was 1 already
    assert (books["before"], books["after"]) == ({"currency": "EUR"}, {"currency": "CHF"})
    assert books["entityId"] == str(relay.GlobalID("Organisation", str(org.id)))
    customer = await ok(api, org, Role.FINANCE, CUSTOMER, {"input": {
        "name": "Sales", "kind": "INTERNAL_DEPARTMENT"}}, "createCustomer")
    [added] = await trail(api, org, entityKind="CUSTOMER")
    assert added["entityId"] == customer["customer"]["id"]
    assert added["after"] == {"name": "Sales", "kind": "INTERNAL_DEPARTMENT"}
    await ok(api, org, Role.FINANCE, category, {"input": {"code": "cloud", "title": "Cloud"}},
             "addCostCategory")
    [coded] = await trail(api, org, entityKind="COST_CATEGORY")
    assert (coded["action"], coded["after"]) == ("CREATED", {"code": "cloud", "title": "Cloud"})


async def test_a_csv_import_is_one_event_by_the_operator(api: GraphQLClient, org: Org,
                                                         portfolio: Portfolio,
                                                         db: AsyncEngine) -> None:
    await portfolio.create("Hosting")
    csv = ("service,date,category,amount\n"
           "Hosting,2026-03-01,labour,10\nHosting,2026-03-02,labour,5\n")
    async with create_session_factory(db)() as session, session.begin():
        assert await import_costs(session, org.id, csv, "csv:march.csv") == 2
    [imported] = await trail(api, org, entityKind="COST_ENTRY")
    assert imported["action"] == "IMPORTED" and imported["entityId"] is None
    assert imported["after"]["count"] == 2
    assert imported["after"]["source"] == "csv:march.csv"
    assert (imported["person"], imported["personName"]) == (None, "spm-api operator")


async def test_approval_rules_and_plugin_settings_are_recorded(api: GraphQLClient, org: Org
                                                               ) -> None:
    rules = """mutation($rules: [String!]!) { setApprovalRules(input: {rules: $rules}) {
      errors { code field message } } }"""
    configure = """mutation($plugin: String!, $settings: JSON!) {
      configurePlugin(input: {plugin: $plugin, settings: $settings}) {
        errors { code field message } } }"""
    await ok(api, org, Role.ADMIN, rules, {"rules": ["majority"]}, "setApprovalRules")
    await ok(api, org, Role.ADMIN, rules, {"rules": ["majority"]}, "setApprovalRules")
    [chosen] = await trail(api, org, entityKind="APPROVAL_RULES")  # the same again: no change
    assert (chosen["before"], chosen["after"]) == ({"rules": []}, {"rules": ["majority"]})
    assert chosen["entityId"] == str(relay.GlobalID("Organisation", str(org.id)))
    await ok(api, org, Role.ADMIN, configure, {"plugin": "spm_api.majority", "settings": {}},
             "configurePlugin")
    [configured] = await trail(api, org, entityKind="PLUGIN_SETTINGS")
    assert (configured["action"], configured["via"]) == ("CREATED", "spm_api.majority")
    assert configured["after"] == {"settings": {}}
    assert configured["personName"] == "Admin of acme"

    plugin = "spm_api.balanced_score"
    for weights in ({"benefit": "0.6", "support": "0.3"}, {"benefit": "0.7", "risk": "0.1",
                                                            "support": "0.3"}):
        await ok(api, org, Role.ADMIN, configure,
                 {"plugin": plugin, "settings": {"weights": weights}}, "configurePlugin")
    reweighted, weighted, _majority = await trail(api, org, entityKind="PLUGIN_SETTINGS")
    assert (weighted["action"], weighted["via"]) == ("CREATED", plugin)
    assert (reweighted["action"], reweighted["via"]) == ("UPDATED", plugin)
    # only the weights that changed, and the one added
    assert reweighted["before"] == {"settings": {"weights": {"benefit": "0.6"}}}
    assert reweighted["after"] == {"settings": {"weights": {"benefit": "0.7", "risk": "0.1"}}}


def test_credentials_are_masked_wherever_they_sit() -> None:
    settings = {"endpoint": "https://x.example", "password": "p", "nested": {
        "client_secret": "s", "region": "eu"}, "keys": [{"api_key": "k", "id": 1}],
        "token": None, "tokens": ["a", "b"], "auth": {"user": "u", "password": "p"}}
    assert audit.masked(settings) == {
        "endpoint": "https://x.example", "password": "****",
        "nested": {"client_secret": "****", "region": "eu"},
        "keys": [{"api_key": "****", "id": 1}], "token": None, "tokens": "****",
        "auth": "****"}


REGISTER = """
mutation($input: RegisterContractorInput!) { registerContractor(input: $input) {
  contractor { id } errors { code field message } } }"""
UPDATE_CONTRACTOR = """
mutation($input: UpdateContractorInput!) { updateContractor(input: $input) {
  errors { code field message } } }"""


async def stored_rows(db: AsyncEngine) -> str:
    """Every column of every stored audit row, as text."""
    async with db.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM audit_event"))).all()
    assert rows
    return "\n".join(repr(tuple(row)) for row in rows)


async def test_contractor_settings_are_recorded_with_secrets_masked(
        api: GraphQLClient, org: Org, db: AsyncEngine) -> None:
    registered = await ok(api, org, Role.PORTFOLIO_MANAGER, REGISTER, {"input": {
        "name": "Acme Hosting", "integration": "vault", "contact": "ops@acme.example",
        "settings": {"endpoint": "https://acme.example", "api_token": SECRET}}},
        "registerContractor")
    contractor_id = registered["contractor"]["id"]
    await ok(api, org, Role.PORTFOLIO_MANAGER, UPDATE_CONTRACTOR, {"input": {
        "contractorId": contractor_id,
        "settings": {"endpoint": "https://acme.example/v2", "api_token": NEW_SECRET}}},
        "updateContractor")
    rotated, created = await trail(api, org, entityId=contractor_id)
    assert (created["action"], created["via"]) == ("CREATED", "vault")
    assert created["after"]["settings"] == {"endpoint": "https://acme.example",
                                            "api_token": "****"}
    assert rotated["before"] == {"settings": {"endpoint": "https://acme.example",
                                              "api_token": "****"}}
    assert rotated["after"] == {"settings": {"endpoint": "https://acme.example/v2",
                                             "api_token": "****"}}
    stored = await stored_rows(db)
    for secret in (SECRET, NEW_SECRET, SECRET[-8:], NEW_SECRET[-8:]):
        assert secret not in stored


INVITE = """
mutation($input: InvitePersonInput!) { invitePerson(input: $input) {
  person { id } token { id } secret errors { code field message } } }"""
ROLE = """
mutation($input: PersonRoleInput!) { %s(input: $input) { errors { code field message } } }"""
PERSON = """
mutation($input: PersonInput!) { %s(input: $input) { errors { code field message } } }"""
CREATE_TOKEN = """
mutation($input: CreateTokenInput!) { createToken(input: $input) {
  token { id } secret errors { code field message } } }"""
ROTATE = """
mutation($id: ID!) { rotateToken(input: {tokenId: $id}) { secret errors { code } } }"""
REVOKE = """
mutation($id: ID!) { revokeToken(input: {tokenId: $id}) { errors { code } } }"""


async def test_people_roles_and_tokens_are_recorded_with_secrets_masked(
        api: GraphQLClient, org: Org, db: AsyncEngine) -> None:
    admin = Role.ADMIN
    invited = await ok(api, org, admin, INVITE, {"input": {
        "name": "Ada", "email": "ada@acme.example", "roles": ["VIEWER"]}}, "invitePerson")
    person = {"personId": invited["person"]["id"]}
    await ok(api, org, admin, ROLE % "grantRole", {"input": {**person, "role": "FINANCE"}},
             "grantRole")
    await ok(api, org, admin, ROLE % "revokeRole", {"input": {**person, "role": "VIEWER"}},
             "revokeRole")
    await ok(api, org, admin, PERSON % "deactivatePerson", {"input": person},
             "deactivatePerson")
    await ok(api, org, admin, PERSON % "reactivatePerson", {"input": person},
             "reactivatePerson")
    about = await trail(api, org, entityId=person["personId"])
    assert [e["action"] for e in about] == [
        "REACTIVATED", "DEACTIVATED", "ROLE_REVOKED", "ROLE_GRANTED", "CREATED"]
    reactivated, deactivated, revoked, granted, created = about
    assert created["after"] == {"name": "Ada", "email": "ada@acme.example",
                                "roles": ["VIEWER"]}
    assert (granted["before"], granted["after"]) == ({"roles": ["VIEWER"]},
                                                     {"roles": ["FINANCE", "VIEWER"]})
    assert (revoked["before"], revoked["after"]) == ({"roles": ["FINANCE", "VIEWER"]},
                                                     {"roles": ["FINANCE"]})
    assert deactivated["after"]["deactivatedAt"] is not None
    assert reactivated["after"] == {"deactivatedAt": None}

    created_token = await ok(api, org, Role.VIEWER, CREATE_TOKEN, {"input": {"name": "ci"}},
                             "createToken")
    token_id = created_token["token"]["id"]
    rotated = await ok(api, org, Role.VIEWER, ROTATE, {"id": token_id}, "rotateToken")
    await ok(api, org, admin, REVOKE, {"id": token_id}, "revokeToken")
    revoked_token, rotated_event, issued = await trail(api, org, entityId=token_id)
    assert [e["action"] for e in (revoked_token, rotated_event, issued)] == [
        "REVOKED", "ROTATED", "CREATED"]
    assert issued["after"]["name"] == "ci" and issued["after"]["secret"] == "****"
    assert issued["personName"] == "Viewer of acme"
    assert rotated_event["after"]["secret"] == "****"
    assert revoked_token["personName"] == "Admin of acme"
    # the invitation's token is recorded too, masked like every other
    invitation = await trail(api, org, entityId=invited["token"]["id"])
    assert [e["after"]["secret"] for e in invitation] == ["****"]

    stored = await stored_rows(db)
    for secret in (invited["secret"], created_token["secret"], rotated["secret"]):
        assert secret and secret not in stored


async def test_a_vote_is_recorded(api: GraphQLClient, org: Org, portfolio: Portfolio) -> None:
    service_id = await portfolio.in_approval("Hosting")
    voted = await portfolio.vote(service_id, "ABSTAIN", org.token(Role.DECISION_MAKER), "later")
    assert voted["errors"] == []
    [vote] = await trail(api, org, entityKind="VOTE")
    assert vote["entityId"] == voted["vote"]["id"]
    assert (vote["action"], vote["after"]["decision"], vote["after"]["comment"]) == (
        "CAST", "ABSTAIN", "later")
    assert vote["person"] == {"id": person_gid(org, Role.DECISION_MAKER)}


async def test_a_refused_change_after_a_partial_write_leaves_no_event(
        api: GraphQLClient, org: Org, portfolio: Portfolio, db: AsyncEngine) -> None:
    # The person is written (and their event recorded) before the token's expiry is
    # checked; the refusal rolls both back.
    refused = (await api.data(INVITE, {"input": {
        "name": "Bob", "email": "bob@acme.example", "roles": ["VIEWER"],
        "tokenExpiresAt": "2001-01-01T00:00:00Z"}}, org.token(Role.ADMIN)))["invitePerson"]
    assert [e["code"] for e in refused["errors"]] == ["VALIDATION"]
    assert await trail(api, org, entityKind="PERSON") == []
    assert await trail(api, org, entityKind="API_TOKEN") == []

    # A command that edited and recorded, then failed: nothing of it is kept.
    service = await portfolio.create("Hosting")
    service_pk = int(relay.GlobalID.from_id(service["id"]).node_id)
    actor = Actor(person_id=org.person_ids[Role.ADMIN], organisation_id=org.id,
                  roles=frozenset({Role.ADMIN}))

    async with create_session_factory(db)() as session:
        async def edit_then_fail() -> None:
            await update_service(session, actor, service_pk, name="Renamed")
            await session.flush()
            assert await session.scalar(select(AuditEvent.id).where(
                AuditEvent.action == "UPDATED")) is not None  # written, not committed
            raise fail(ErrorCode.VALIDATION, "forced")

        with pytest.raises(DomainError):
            await unit.commit(session, edit_then_fail)
    assert [e["action"] for e in await trail(api, org, entityId=service["id"])] == ["CREATED"]


async def test_pages_follow_the_keyset_while_events_are_recorded(
        api: GraphQLClient, org: Org, portfolio: Portfolio) -> None:
    for number in range(7):
        await portfolio.create(f"Service {number}")
    every = [e["id"] for e in await trail(api, org)]
    assert len(every) == 7
    seen: list[str] = []
    after = None
    created = 0
    while True:
        data = (await api.data(TRAIL, {"first": 2, "after": after},
                               org.token(Role.ADMIN)))["auditEvents"]
        seen += [edge["node"]["id"] for edge in data["edges"]]
        assert data["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
        assert after == data["edges"][-1]["cursor"]
        await portfolio.create(f"Meanwhile {created}")  # a newer event between pages
        created += 1
    assert seen == every  # no duplicate, no gap, nothing newer slipped in
    newest = await trail(api, org)
    assert len(newest) == 7 + created and [e["id"] for e in newest[created:]] == every


async def test_filters_by_person_and_time(api: GraphQLClient, org: Org,
                                          portfolio: Portfolio) -> None:
    await portfolio.create("By contributor")
    await portfolio.create("By manager", role=Role.PORTFOLIO_MANAGER)
    [mine] = await trail(api, org, personId=person_gid(org, Role.PORTFOLIO_MANAGER))
    assert mine["after"]["name"] == "By manager"
    both = await trail(api, org)
    oldest = both[-1]["at"]
    assert [e["id"] for e in await trail(api, org, **{"from": oldest})] == [
        e["id"] for e in both]
    assert await trail(api, org, to=oldest) == []
    refused = await api.execute(TRAIL, {"filter": {"entityId": "nonsense"}},
                                org.token(Role.ADMIN))
    assert refused["errors"][0]["extensions"]["code"] == "VALIDATION"
    naive = await api.execute(TRAIL, {"filter": {"from": "2026-01-01T00:00:00"}},
                              org.token(Role.ADMIN))
    assert naive["errors"][0]["extensions"]["code"] == "VALIDATION"
    bad_cursor = await api.execute(TRAIL, {"after": "bm9wZTox"}, org.token(Role.ADMIN))
    assert bad_cursor["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("role", [role for role in Role if role is not Role.ADMIN])
async def test_only_admins_read_the_trail(api: GraphQLClient, org: Org, portfolio: Portfolio,
                                          role: Role) -> None:
    await portfolio.create("Hosting")
    body = await api.execute(TRAIL, {}, org.token(role))
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await api.execute(TRAIL, {})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_another_organisations_admin_sees_none_of_it(api: GraphQLClient, org: Org,
                                                           portfolio: Portfolio,
                                                           db: AsyncEngine) -> None:
    await portfolio.create("Hosting")
    other = await make_org(db, "globex")
    assert await trail(api, other) == []
    assert len(await trail(api, org)) == 1


async def test_stored_events_refuse_change(api: GraphQLClient, org: Org,
                                           portfolio: Portfolio, db: AsyncEngine) -> None:
    await portfolio.create("Hosting")
    async with create_session_factory(db)() as session:
        event = await session.scalar(select(AuditEvent))
        assert event is not None
        event.person_name = "someone else"
        with pytest.raises(ImmutableRecordError):
            await session.flush()
        await session.rollback()
    if db.dialect.name != "postgresql":
        return
    for statement in ("UPDATE audit_event SET person_name = 'x'", "DELETE FROM audit_event"):
        async with db.connect() as connection:
            with pytest.raises(DBAPIError, match="immutable"):
                await connection.execute(text(statement))
    assert len(await trail(api, org)) == 1
