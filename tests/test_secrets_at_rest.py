"""Contractor settings (access tokens among them) are sealed at rest: the table holds
no plain token, a query shows credentials masked, a new key can be rotated in, and the
migration seals the rows written before it."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.app import create_app
from spm_api.cli import main
from spm_api.db import migrations, secrets
from spm_api.plugins import ContractorIntegration, PluginSettingsError, hookimpl
from spm_api.plugins.host import PluginHost
from spm_api.plugins.manager import build_plugin_manager
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org, serve_api
from tests.test_money_migration import _execute, fresh_url  # noqa: F401  (a fixture)

TOKEN = "spm-test-contractor-token-6f1d2c"

REGISTER = """
mutation($input: RegisterContractorInput!) {
  registerContractor(input: $input) {
    contractor { id settingsJson } errors { code field message }
  }
}"""


def accept_endpoint_and_token(settings: Any) -> None:
    if not set(settings) <= {"endpoint", "token"}:
        raise PluginSettingsError("settings take an endpoint and a token")


class TokenIntegration:
    @hookimpl
    def spm_contractor_integrations(self) -> list[ContractorIntegration]:
        async def unused(_request: Any) -> Any:
            raise AssertionError("not called")

        return [ContractorIntegration(
            name="tokened", title="With a token", description="for tests",
            send_engagement=unused, request_quote=unused,
            validate_settings=accept_endpoint_and_token)]


@pytest.fixture
async def api_with_tokens(db: AsyncEngine, settings: Settings) -> AsyncIterator[GraphQLClient]:
    manager = build_plugin_manager(frozenset())
    manager.register(TokenIntegration(), name="tokened_contractor")
    host = PluginHost(manager, timeout=2.0)
    bus = EventBus("memory://")
    async with serve_api(create_app(settings, engine=db, plugins=host, bus=bus)) as client:
        yield client
    await bus.disconnect()
    host.close()


@pytest.fixture
def keys() -> Iterator[None]:
    """Restore ``SPM_SECRET_KEYS`` after a test that changes it."""
    before = os.environ[secrets.ENVIRONMENT_VARIABLE]
    yield
    os.environ[secrets.ENVIRONMENT_VARIABLE] = before


async def register(api: GraphQLClient, org: Org) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(REGISTER, {"input": {
        "name": "Acme Hosting", "integration": "tokened", "contact": "ops@acme.example",
        "settings": {"endpoint": "https://acme.example", "token": TOKEN}}},
        org.token(Role.PORTFOLIO_MANAGER)))["registerContractor"]
    assert payload["errors"] == []
    return payload


async def stored(db: AsyncEngine) -> list[str]:
    async with db.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM contractor"))).all()
    return [" ".join(str(value) for value in row) for row in rows]


async def test_the_table_holds_no_plain_token(api_with_tokens: GraphQLClient, org: Org,
                                              db: AsyncEngine) -> None:
    await register(api_with_tokens, org)
    rows = await stored(db)
    assert len(rows) == 1
    assert TOKEN not in rows[0] and "acme.example/" not in rows[0]
    assert "https://acme.example" not in rows[0], "the whole settings object is sealed"


async def test_a_query_never_shows_a_token_in_full(api_with_tokens: GraphQLClient,
                                                   org: Org) -> None:
    payload = await register(api_with_tokens, org)
    assert payload["contractor"]["settingsJson"] == {
        "endpoint": "https://acme.example", "token": "****" + TOKEN[-4:]}
    listed = await api_with_tokens.data("{ contractors { settingsJson } }",
                                        token=org.token(Role.ADMIN))
    assert TOKEN not in json.dumps(listed)


async def test_rotating_the_key_reseals_every_row(
        api_with_tokens: GraphQLClient, org: Org, db: AsyncEngine, database_url: str,
        keys: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await register(api_with_tokens, org)
    old = os.environ[secrets.ENVIRONMENT_VARIABLE]
    new = Fernet.generate_key().decode()
    os.environ[secrets.ENVIRONMENT_VARIABLE] = f"{new},{old}"
    monkeypatch.setenv("SPM_DATABASE_URL", database_url)
    from spm_api.settings import get_settings

    get_settings.cache_clear()
    try:
        assert await asyncio.to_thread(main, ["secrets", "rotate"]) == 0
    finally:
        get_settings.cache_clear()
    assert "resealed the settings of 1 contractor" in capsys.readouterr().out
    os.environ[secrets.ENVIRONMENT_VARIABLE] = new  # the old key dropped
    listed = await api_with_tokens.data("{ contractors { settingsJson } }",
                                        token=org.token(Role.ADMIN))
    assert listed["contractors"][0]["settingsJson"]["token"] == "****" + TOKEN[-4:]
    os.environ[secrets.ENVIRONMENT_VARIABLE] = old  # only the old key: nothing opens
    with pytest.raises(secrets.SecretsUnavailable):
        async with db.connect() as connection:
            sealed = (await connection.execute(
                text("SELECT sealed_settings FROM contractor"))).scalar_one()
        secrets.open_json(sealed)


def test_the_migration_seals_existing_settings(fresh_url: str) -> None:  # noqa: F811
    migrations.upgrade(fresh_url, "0005")
    plain = json.dumps({"endpoint": "https://acme.example", "token": TOKEN})
    asyncio.run(_execute(
        fresh_url,
        "INSERT INTO organisation (id, name, slug, currency, fiscal_year_start_month, "
        "created_at) VALUES (1, 'Acme', 'acme', 'EUR', 1, CURRENT_TIMESTAMP)",
        "INSERT INTO contractor (id, organisation_id, name, contact, integration, settings,"
        f" created_at) VALUES (1, 1, 'Acme Hosting', '', 'tokened', '{plain}', "
        "CURRENT_TIMESTAMP)"))
    migrations.upgrade(fresh_url)
    sealed = asyncio.run(_execute(fresh_url, "SELECT sealed_settings FROM contractor"))[0]
    assert isinstance(sealed, str) and TOKEN not in sealed
    assert secrets.open_json(sealed) == {"endpoint": "https://acme.example", "token": TOKEN}
    migrations.downgrade(fresh_url, "0005")
    settings = asyncio.run(_execute(fresh_url, "SELECT settings FROM contractor"))[0]
    opened = json.loads(settings) if isinstance(settings, str) else settings
    assert opened == {"endpoint": "https://acme.example", "token": TOKEN}


def test_without_a_key_nothing_is_sealed(keys: None, tmp_path: Path) -> None:
    os.environ[secrets.ENVIRONMENT_VARIABLE] = ""
    with pytest.raises(secrets.SecretsUnavailable, match="SPM_SECRET_KEYS is not set"):
        secrets.seal_json({"token": TOKEN})
