"""GraphiQL in headless Chromium, with every request to another origin blocked: the
IDE loads from the API alone, answers a query with a token and shows a subscription's
events as they arrive. Screenshots go to ``test-artifacts/`` (``SPM_TEST_ARTIFACTS``).

Chromium is Debian's (``SPM_TEST_CHROMIUM``, default the ``chromium`` on PATH), driven by
Playwright; in CI a missing browser fails the run, elsewhere the test is skipped."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from spm_api.app import create_app
from spm_api.db import migrations
from spm_api.db.engine import create_engine, create_session_factory
from spm_api.demo import seed_demo
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from tests.ws import running

REPOSITORY = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("SPM_TEST_ARTIFACTS", REPOSITORY / "test-artifacts"))
#: Chromium as root in a container: no sandbox, and none of its own network chatter.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def chromium() -> str:
    path = os.environ.get("SPM_TEST_CHROMIUM") or shutil.which("chromium")
    reason = None
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[dev]')"
    if reason is None and (path is None or not Path(path).exists()):
        reason = "no Chromium found (apt-get install chromium, or set SPM_TEST_CHROMIUM)"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test is required in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    assert path is not None
    return path


@dataclass
class Browser:
    """A page on the API's origin; every request elsewhere is aborted and recorded."""

    page: Any
    origin: str
    blocked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    async def open_graphiql(self) -> None:
        response = await self.page.goto(f"{self.origin}/graphql")
        assert response is not None
        assert "script-src 'self'" in (await response.all_headers()).get(
            "content-security-policy", ""), "the page is served under its policy"
        await self.page.wait_for_selector(".graphiql-execute-button", timeout=30_000)

    async def editor_text(self, selector: str) -> str:
        text: str = await self.page.evaluate(
            "(s) => document.querySelector(s).CodeMirror.getValue()", selector)
        return text

    async def set_editor(self, selector: str, text: str) -> None:
        """Put ``text`` in the visible editor matching ``selector``."""
        await self.page.evaluate(
            """([s, text]) => Array.from(document.querySelectorAll(s))
                 .find((editor) => editor.offsetParent !== null).CodeMirror.setValue(text)""",
            [selector, text])

    async def set_query(self, text: str) -> None:
        await self.set_editor(".graphiql-query-editor .CodeMirror", text)

    async def run(self) -> None:
        await self.page.click(".graphiql-execute-button")

    async def wait_for_result(self, *texts: str) -> str:
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        try:
            await self.page.wait_for_function(
                """(texts) => {
                     const result = document.querySelector('.result-window');
                     return result && texts.every((t) => result.innerText.includes(t));
                   }""", arg=list(texts), timeout=30_000)
        except PlaywrightTimeout:
            shot = await self.screenshot("graphiql-failed")
            shown = await self.page.inner_text("#graphiql")
            raise AssertionError(f"{texts} never shown (see {shot}); the page shows:\n"
                                 f"{shown[:2000]}") from None
        result: str = await self.page.inner_text(".result-window")
        return result

    async def screenshot(self, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"  # Playwright makes the folder
        await self.page.screenshot(path=str(path))
        return path


@asynccontextmanager
async def browser_on(origin: str) -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    executable = chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable,
                                                    args=CHROMIUM_ARGS)
        try:
            context = await launched.new_context(viewport={"width": 1400, "height": 900})
            browser = Browser(await context.new_page(), origin)

            async def only_our_origin(route: Any) -> None:
                url: str = route.request.url
                if url.startswith((origin + "/", "data:")):
                    await route.continue_()
                else:
                    browser.blocked.append(url)
                    await route.abort()

            await context.route("**/*", only_our_origin)
            browser.page.on("pageerror", lambda error: browser.problems.append(str(error)))
            # The page runs under the API's Content-Security-Policy: a violation is a
            # problem too (Chromium reports it on the console).
            browser.page.on("console", lambda message: browser.problems.append(message.text)
                            if "Content Security Policy" in message.text else None)
            yield browser
        finally:
            await launched.close()


@dataclass
class Served:
    origin: str
    tokens: dict[str, str]
    api: httpx.AsyncClient


@asynccontextmanager
async def served(tmp_path: Path, plugins: PluginHost, demo_mode: bool
                 ) -> AsyncIterator[Served]:
    """A fresh demo database served by uvicorn on a loopback port."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'spm.db'}"
    await asyncio.to_thread(migrations.upgrade, url)  # Alembic runs its own loop
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            demo = await seed_demo(session, plugins, services=7)
        tokens = {person["email"]: person["token"] for person in demo["people"]}
        settings = Settings(database_url=url, plugins="", event_bus="memory",
                            demo_mode=demo_mode, outbox_in_server=False)
        bus = EventBus("memory://")
        app = create_app(settings, engine=engine, plugins=plugins, bus=bus)
        async with running(app) as address, httpx.AsyncClient(
                base_url=f"http://{address}") as api:
            yield Served(f"http://{address}", tokens, api)
        await bus.disconnect()
    finally:
        await engine.dispose()


async def move_a_proposal_to_analysis(served: Served) -> str:
    """A stage change made by another client, as the portfolio manager."""
    token = served.tokens["portfolio@demo.example"]
    headers = {"Authorization": f"Bearer {token}"}
    listed = await served.api.post("/graphql", headers=headers, json={"query": """
        { services(first: 1, filter: {stages: [DEFINITION]}) { edges { node { id name } } } }
    """})
    node = listed.json()["data"]["services"]["edges"][0]["node"]
    moved = await served.api.post("/graphql", headers=headers, json={"query": """
        mutation($id: ID!) {
          transitionService(input: {serviceId: $id, to: ANALYSIS, reason: "from a test"}) {
            errors { code message }
          }
        }""", "variables": {"id": node["id"]}})
    assert moved.json()["data"]["transitionService"]["errors"] == []
    name: str = node["name"]
    return name


async def test_graphiql_in_demo_mode_runs_a_query_and_shows_a_live_stage_change(
        tmp_path: Path, plugins: PluginHost) -> None:
    async with served(tmp_path, plugins, demo_mode=True) as api, \
            browser_on(api.origin) as browser:
        await browser.open_graphiql()
        assert "viewer { name roles }" in await browser.editor_text(
            ".graphiql-query-editor .CodeMirror")
        await browser.run()
        await browser.wait_for_result('"Pia Portfolio"', '"PORTFOLIO_MANAGER"', "totalCount")
        await browser.screenshot("graphiql-demo-query")

        # The schema introspected: the docs and the explorer list the API's fields.
        await browser.page.click('[aria-label="Show Documentation Explorer"]')
        await browser.page.get_by_text("Root Types").wait_for(timeout=10_000)
        await browser.page.click('[aria-label="Show GraphiQL Explorer"]')
        await browser.page.locator(".graphiql-explorer-root").get_by_text(
            "chargingRun").first.wait_for(timeout=10_000)
        await browser.screenshot("graphiql-demo-explorer")

        await browser.set_query(
            "subscription {\n  stageChanged {\n    cursor\n"
            "    stageChange { fromStage toStage reason actor { name } }\n"
            "    service { name stage }\n  }\n}\n")
        await browser.run()
        await browser.page.wait_for_timeout(500)  # the subscription is acknowledged
        moved = await move_a_proposal_to_analysis(api)
        shown = await browser.wait_for_result(moved, '"toStage": "ANALYSIS"', "from a test")
        assert '"fromStage": "DEFINITION"' in shown
        await browser.screenshot("graphiql-demo-subscription")

        assert browser.blocked == [], "GraphiQL asked for nothing outside the API's origin"
        assert browser.problems == []


async def test_graphiql_outside_demo_mode_takes_a_token_in_the_headers_tab(
        tmp_path: Path, plugins: PluginHost) -> None:
    async with served(tmp_path, plugins, demo_mode=False) as api, \
            browser_on(api.origin) as browser:
        page = (await api.api.get("/graphql", headers={"Accept": "text/html"})).text
        assert re.search(r"spm_[A-Za-z0-9_-]{20,}", page) is None, "no token outside demo mode"
        assert '"headers": null' in page
        await browser.open_graphiql()
        await browser.run()
        await browser.wait_for_result("UNAUTHENTICATED")

        await browser.page.get_by_text("Headers", exact=True).click()
        token = api.tokens["viewer@demo.example"]
        await browser.set_editor(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror",
                                 f'{{"Authorization": "Bearer {token}"}}')
        await browser.run()
        await browser.wait_for_result('"Vic Viewer"', '"VIEWER"')
        await browser.screenshot("graphiql-query-with-a-token")

        assert browser.blocked == []
        assert browser.problems == []
