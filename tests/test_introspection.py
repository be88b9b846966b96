"""The full introspection query GraphiQL and code generators send answers without an
error: every default value of every argument and input field can be shown."""

from __future__ import annotations

from graphql import get_introspection_query

from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org


async def test_full_introspection_answers_every_type(api: GraphQLClient, org: Org) -> None:
    body = await api.execute(get_introspection_query(input_value_deprecation=True),
                             token=org.token(Role.VIEWER))
    assert "errors" not in body, body.get("errors")
    types = {item["name"]: item for item in body["data"]["__schema"]["types"]}
    policy = {field["name"]: field for field in types["SetChargingPolicyInput"]["inputFields"]}
    assert policy["parameters"]["defaultValue"] == "null"
    defaults = [value["defaultValue"] for item in types.values()
                for value in (item.get("inputFields") or []) if value["defaultValue"]]
    assert defaults, "defaults are shown"
