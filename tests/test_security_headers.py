"""Every HTTP response carries the security headers; CORS is closed unless origins are
configured, and then open to those origins only."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.app import create_app
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from tests.support import GraphQLClient

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


@pytest.mark.parametrize("method, path, kwargs", [
    ("POST", "/graphql", {"json": {"query": "{ __typename }"}}),
    ("GET", "/graphql", {"headers": {"Accept": "text/html"}}),
    ("GET", "/health", {}),
    ("GET", "/graphiql/static/graphiql.min.css", {}),
    ("POST", "/graphql", {"content": b"x" * 2_000_000,
                          "headers": {"Content-Type": "application/json"}}),
])
async def test_every_response_carries_the_security_headers(
        api: GraphQLClient, method: str, path: str, kwargs: dict[str, object]) -> None:
    response = await api.http.request(method, path, **kwargs)  # type: ignore[arg-type]
    for name, value in EXPECTED.items():
        assert response.headers[name] == value, (path, name)
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "strict-transport-security" not in response.headers  # plain HTTP


async def test_hsts_over_https(api: GraphQLClient) -> None:
    transport = api.http._transport
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        response = await http.get("/health")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_cors_is_closed_by_default(api: GraphQLClient) -> None:
    preflight = await api.http.options("/graphql", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    response = await api.http.post("/graphql", json={"query": "{ __typename }"},
                                   headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


@pytest.fixture
async def cors_api(db: AsyncEngine, settings: Settings, plugins: PluginHost
                   ) -> AsyncIterator[httpx.AsyncClient]:
    bus = EventBus("memory://")
    app = create_app(settings.model_copy(update={
        "cors_origins": "https://app.example, https://admin.example"}),
        engine=db, plugins=plugins, bus=bus)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as http:
        yield http
    await bus.disconnect()


async def test_cors_opens_to_the_configured_origins_only(
        cors_api: httpx.AsyncClient) -> None:
    preflight = await cors_api.options("/graphql", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, spm-lsn"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert "spm-lsn" in preflight.headers["access-control-allow-headers"].lower()
    response = await cors_api.post("/graphql", json={"query": "{ __typename }"},
                                   headers={"Origin": "https://admin.example"})
    assert response.headers["access-control-allow-origin"] == "https://admin.example"
    # A page may read a mutation's position to send it back (read replicas).
    assert response.headers["access-control-expose-headers"].lower() == "spm-lsn"
    other = await cors_api.options("/graphql", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
