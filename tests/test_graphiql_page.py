"""The GraphiQL page and its files come from the API's own origin, ship inside the
package, and carry a token only in demo mode."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.app import create_app
from spm_api.db.engine import create_session_factory
from spm_api.demo import seed_demo
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.web.graphiql import STATIC_DIR
from tests.support import GraphQLClient, serve_api

ROOT = Path(__file__).resolve().parent.parent
HTML = {"Accept": "text/html"}
TOKEN = re.compile(r"Bearer (spm_[A-Za-z0-9_-]{20,})")


@pytest.fixture
async def demo_app(db: AsyncEngine, settings: Settings, plugins: PluginHost
                   ) -> AsyncIterator[tuple[GraphQLClient, Settings]]:
    async with create_session_factory(db)() as session, session.begin():
        await seed_demo(session, plugins, services=7)
    demo = settings.model_copy(update={"demo_mode": True})
    async with serve_api(create_app(demo, engine=db, plugins=plugins,
                                    bus=EventBus("memory://"))) as client:
        yield client, demo


async def test_the_page_and_every_file_it_loads_come_from_the_api(api: GraphQLClient) -> None:
    page = await api.http.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert re.search(r"https?://", page.text) is None, "nothing from another origin"
    sources = re.findall(r'(?:src|href)="(/[^"]+)"', page.text)
    assert len(sources) == 8, sources
    for source in sources:
        served = await api.http.get(source)
        assert served.status_code == 200, source
        assert len(served.content) > 500, source
    assert TOKEN.search(page.text) is None


async def test_demo_mode_opens_with_the_portfolio_managers_token(
        demo_app: tuple[GraphQLClient, Settings]) -> None:
    client, _ = demo_app
    page = (await client.http.get("/graphql", headers=HTML)).text
    found = TOKEN.search(page)
    assert found, "the demo token is in the headers"
    body = await client.data("{ viewer { email roles } }", token=found[1])
    assert body == {"viewer": {"email": "portfolio@demo.example",
                               "roles": ["PORTFOLIO_MANAGER"]}}
    again = TOKEN.search((await client.http.get("/graphql", headers=HTML)).text)
    assert again and again[1] == found[1], "one console token per server process"


async def test_a_new_server_in_demo_mode_revokes_the_previous_console_token(
        demo_app: tuple[GraphQLClient, Settings], db: AsyncEngine, plugins: PluginHost
) -> None:
    client, demo = demo_app
    first = TOKEN.search((await client.http.get("/graphql", headers=HTML)).text)
    assert first
    async with serve_api(create_app(demo, engine=db, plugins=plugins,
                                    bus=EventBus("memory://"))) as restarted:
        second = TOKEN.search((await restarted.http.get("/graphql", headers=HTML)).text)
        assert second and second[1] != first[1]
        assert (await restarted.data("{ viewer { name } }", token=second[1]))["viewer"]
        old = await restarted.execute("{ viewer { name } }", token=first[1])
        assert old["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_demo_mode_without_a_demo_organisation_has_no_token(
        db: AsyncEngine, settings: Settings, plugins: PluginHost) -> None:
    demo = settings.model_copy(update={"demo_mode": True})
    async with serve_api(create_app(demo, engine=db, plugins=plugins,
                                    bus=EventBus("memory://"))) as client:
        page = (await client.http.get("/graphql", headers=HTML)).text
    assert TOKEN.search(page) is None
    assert '"headers": null' in page


def test_the_ide_files_ship_in_the_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["spm_api.web"]
    package = ROOT / "spm_api" / "web"
    files = [path.relative_to(package).as_posix() for path in STATIC_DIR.iterdir()]
    assert {"graphiql.min.js", "react.production.min.js", "graphql-ws.min.js",
            "spm-graphiql.js", "LICENSES.md"} <= {Path(name).name for name in files}
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name
    licences = (STATIC_DIR / "LICENSES.md").read_text()
    for shipped in STATIC_DIR.iterdir():
        if shipped.name not in ("LICENSES.md", "spm-graphiql.js"):
            assert f"`{shipped.name}`" in licences, f"{shipped.name} has its licence listed"
