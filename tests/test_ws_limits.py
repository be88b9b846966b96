"""WebSocket connections: messages over ``SPM_MAX_WS_MESSAGE_BYTES`` close the
connection with 1009 unread, and the legacy graphql-ws protocol closes with the codes
graphql-transport-ws uses (4401 for a missing or bad token)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from spm_api.app import create_app
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from tests.support import Org
from tests.ws import PROTOCOL, running

LEGACY = "graphql-ws"


@pytest.fixture
async def address(db: AsyncEngine, settings: Settings, plugins: PluginHost
                  ) -> AsyncIterator[str]:
    bus = EventBus("memory://")
    app = create_app(settings.model_copy(update={"graphql_ws_legacy": True,
                                                 "max_ws_message_bytes": 4096}),
                     engine=db, plugins=plugins, bus=bus)
    async with running(app) as served:
        yield served
    await bus.disconnect()


async def closed_with(socket: object) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(socket.recv(), 5)  # type: ignore[attr-defined]
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.mark.parametrize("protocol", [PROTOCOL, LEGACY])
async def test_an_oversized_message_closes_with_1009(address: str, org: Org,
                                                     protocol: str) -> None:
    async with connect(f"ws://{address}/graphql", subprotocols=[protocol],  # type: ignore[list-item]
                       max_size=None) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {
            "Authorization": f"Bearer {org.token(Role.VIEWER)}"}}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 5))["type"] == (
            "connection_ack")
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription { stageChanged { cursor } }", "padding": "x" * 5000}}))
        code, _ = await closed_with(socket)
        assert code == 1009


@pytest.mark.parametrize("payload", [{}, {"Authorization": "Bearer spm_not-a-token"},
                                     {"Authorization": 42}])
async def test_the_legacy_protocol_closes_a_bad_token_with_4401(
        address: str, payload: dict[str, object]) -> None:
    async with connect(f"ws://{address}/graphql",
                       subprotocols=[LEGACY]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert await closed_with(socket) == (4401, "Unauthorized")


async def test_the_legacy_protocol_refuses_a_second_init_and_a_bad_payload(
        address: str, org: Org) -> None:
    init = {"type": "connection_init",
            "payload": {"Authorization": f"Bearer {org.token(Role.VIEWER)}"}}
    async with connect(f"ws://{address}/graphql",
                       subprotocols=[LEGACY]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(socket.recv(), 5))["type"] == (
            "connection_ack")
        await socket.send(json.dumps(init))
        assert await closed_with(socket) == (4429, "Too many initialisation requests")
    async with connect(f"ws://{address}/graphql",
                       subprotocols=[LEGACY]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": "token"}))
        assert await closed_with(socket) == (4400, "Invalid connection init payload")
