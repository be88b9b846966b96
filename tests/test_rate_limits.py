"""Rate limits: requests and query cost per minute, per token (per client address
without one) and per organisation; a refusal is a 429 with ``Retry-After`` and a
``RATE_LIMITED`` error, and the counts hold across processes sharing Redis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.app import create_app
from spm_api.graphql.core.documents import document_checks
from spm_api.graphql.core.limits import document_cost
from spm_api.graphql.schema import build_schema
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from spm_api.web import rate_limits
from tests.conftest import REDIS_CHANNEL_PREFIX, REDIS_URL, require_redis
from tests.support import Org, add_people, make_org
from tests.ws import free_port

SPM_API = Path(sys.executable).with_name("spm-api")

SERVICES = "{ services(first: 5) { edges { node { name stage } } } }"
TYPENAME = "{ __typename }"

#: A moment 20 s into a window: the windows in-process tests see never roll over.
START = 1_000_000 * 60 + 20.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fixed = Clock()
    monkeypatch.setattr(rate_limits, "clock", fixed)
    yield fixed


@asynccontextmanager
async def limited_api(db: AsyncEngine, settings: Settings, plugins: PluginHost,
                      backend: str = "memory", **limits: int
                      ) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process API with rate limits on, counted in ``backend``, and ``limits``."""
    overrides: dict[str, Any] = {"rate_limits": True, "rate_limit_backend": backend}
    overrides.update({f"rate_limit_{name}_per_minute": value for name, value in limits.items()})
    bus = EventBus("memory://")
    app = create_app(settings.model_copy(update=overrides), engine=db, plugins=plugins,
                     bus=bus)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as http:
        yield http
    await bus.disconnect()


async def post(http: httpx.AsyncClient, query: str, token: str | None = None
               ) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.post("/graphql", json={"query": query}, headers=headers)


def refusal(response: httpx.Response) -> dict[str, Any]:
    """The RATE_LIMITED error of a 429, checked against its Retry-After header."""
    assert response.status_code == 429, response.text
    body = response.json()
    assert "data" not in body  # nothing was executed
    [error] = body["errors"]
    extensions: dict[str, Any] = error["extensions"]
    assert extensions["code"] == "RATE_LIMITED"
    assert int(response.headers["retry-after"]) == extensions["retryAfter"]
    return extensions


async def test_a_token_past_its_limit_is_refused_with_429_and_retry_after(
        db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org) -> None:
    async with limited_api(db, settings, plugins, requests=3) as http:
        token = org.token(Role.VIEWER)
        for _ in range(3):
            response = await post(http, SERVICES, token)
            assert response.status_code == 200 and "errors" not in response.json()
        extensions = refusal(await post(http, SERVICES, token))
        assert extensions == {"code": "RATE_LIMITED", "retryAfter": 40, "limit": 3,
                              "measure": "requests", "subject": "token"}
        assert refusal(await http.get("/graphql", params={"query": TYPENAME},
                                      headers={"Authorization": f"Bearer {token}"}))
        assert (await http.get("/health")).status_code == 200  # only /graphql is limited


async def test_tokens_are_counted_apart(db: AsyncEngine, settings: Settings,
                                        plugins: PluginHost, org: Org) -> None:
    async with limited_api(db, settings, plugins, requests=2) as http:
        viewer, manager = org.token(Role.VIEWER), org.token(Role.PORTFOLIO_MANAGER)
        for _ in range(2):
            assert (await post(http, SERVICES, viewer)).status_code == 200
        refusal(await post(http, SERVICES, viewer))
        for _ in range(2):
            assert (await post(http, SERVICES, manager)).status_code == 200
        refusal(await post(http, SERVICES, manager))


async def test_anonymous_requests_are_counted_per_client_address(
        db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org) -> None:
    async with limited_api(db, settings, plugins, requests=2) as http:
        for token in (None, "not-a-token"):  # an invalid token is no way around it
            assert (await post(http, TYPENAME, token)).status_code == 200
        assert refusal(await post(http, TYPENAME))["subject"] == "address"
        assert (await post(http, TYPENAME, org.token(Role.VIEWER))).status_code == 200


async def test_an_organisation_limit_sums_the_tokens_of_the_organisation(
        db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org,
        other_org: Org) -> None:
    more = await add_people(db, org, 2, [Role.VIEWER])
    async with limited_api(db, settings, plugins, requests=10,
                           organisation_requests=3) as http:
        for token in (org.token(Role.VIEWER), *more):
            assert (await post(http, SERVICES, token)).status_code == 200
        extensions = refusal(await post(http, SERVICES, org.token(Role.PORTFOLIO_MANAGER)))
        assert (extensions["subject"], extensions["limit"]) == ("organisation", 3)
        assert (await post(http, SERVICES, other_org.token(Role.VIEWER))).status_code == 200


async def test_the_window_resets(db: AsyncEngine, settings: Settings, plugins: PluginHost,
                                 org: Org, clock: Clock) -> None:
    async with limited_api(db, settings, plugins, requests=1) as http:
        token = org.token(Role.VIEWER)
        assert (await post(http, SERVICES, token)).status_code == 200
        clock.now += 39
        assert refusal(await post(http, SERVICES, token))["retryAfter"] == 1
        clock.now += 1  # the next minute
        assert (await post(http, SERVICES, token)).status_code == 200
        assert refusal(await post(http, SERVICES, token))["retryAfter"] == 60


async def test_the_cost_limit_counts_query_cost(db: AsyncEngine, settings: Settings,
                                                plugins: PluginHost, org: Org) -> None:
    cost = document_cost(build_schema(settings)._schema,
                         document_checks(settings).parse(SERVICES),
                         settings.max_page_size, settings.cost_list_size)
    assert cost > 5  # the page's items count
    async with limited_api(db, settings, plugins, requests=100, cost=2 * cost + 2) as http:
        token = org.token(Role.VIEWER)
        for query in (SERVICES, SERVICES, TYPENAME):  # __typename costs nothing
            assert (await post(http, query, token)).status_code == 200
        extensions = refusal(await post(http, SERVICES, token))
        assert (extensions["measure"], extensions["limit"]) == ("cost", 2 * cost + 2)
        cheap = "{ services(first: 1) { totalCount } }"  # 2: fits what is left
        assert (await post(http, cheap, token)).status_code == 200


async def test_a_body_too_large_is_refused_before_it_is_costed(
        db: AsyncEngine, settings: Settings, plugins: PluginHost) -> None:
    async with limited_api(db, settings, plugins, requests=1) as http:
        padding = " " * (settings.max_body_bytes + 1)
        response = await http.post(
            "/graphql", content=f'{{"query": "{{ __typename }}{padding}"}}',
            headers={"Content-Type": "application/json"})
        assert response.status_code == 413
        assert (await post(http, TYPENAME)).status_code == 200  # the refusal was not charged


async def test_requests_pass_when_redis_does_not_answer(
        db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org,
        caplog: pytest.LogCaptureFixture) -> None:
    unreachable = settings.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async with limited_api(db, unreachable, plugins, "redis", requests=1) as http:
        for _ in range(2):
            assert (await post(http, SERVICES, org.token(Role.VIEWER))).status_code == 200
    assert "rate limits not applied" in caplog.text


@asynccontextmanager
async def api_process(database_url: str, env: dict[str, str]) -> AsyncIterator[str]:
    """``spm-api serve`` on a free loopback port with ``env``, once healthy."""
    address = f"127.0.0.1:{free_port()}"
    host, port = address.split(":")
    process = await asyncio.create_subprocess_exec(
        str(SPM_API), "serve", "--host", host, "--port", port, "--log-level", "warning",
        env={**os.environ, "SPM_DATABASE_URL": database_url, "SPM_PLUGINS": "",
             "SPM_EVENT_BUS": "memory", **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                assert process.returncode is None, await process.stdout.read()  # type: ignore[union-attr]
                try:
                    if (await http.get(f"http://{address}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"the API at {address} did not come up")
        yield address
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def test_the_limits_hold_across_processes_sharing_redis(
        db: AsyncEngine, database_url: str) -> None:
    require_redis()
    org = await make_org(db, "shared-limits")
    env = {"SPM_RATE_LIMITS": "true", "SPM_RATE_LIMIT_BACKEND": "redis",
           "SPM_REDIS_URL": REDIS_URL,
           "SPM_REDIS_CHANNEL_PREFIX": f"{REDIS_CHANNEL_PREFIX}{uuid.uuid4().hex[:8]}:",
           "SPM_RATE_LIMIT_REQUESTS_PER_MINUTE": "4"}
    async with AsyncExitStack() as stack:
        async with asyncio.TaskGroup() as starting:
            started = [starting.create_task(stack.enter_async_context(
                api_process(database_url, env))) for _ in range(2)]
        a, b = (task.result() for task in started)
        if time.time() % 60 > 50:  # the window must not roll over during the test
            await asyncio.sleep(61 - time.time() % 60)
        token = org.token(Role.VIEWER)
        async with httpx.AsyncClient() as http:
            statuses = [(await http.post(f"http://{address}/graphql",
                                         json={"query": SERVICES},
                                         headers={"Authorization": f"Bearer {token}"}))
                        for address in (a, b, a, b, a, b)]
        assert [response.status_code for response in statuses] == [200] * 4 + [429] * 2
        assert refusal(statuses[-1])["limit"] == 4
