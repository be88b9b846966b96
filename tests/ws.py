"""A small graphql-transport-ws client over a real WebSocket, and a uvicorn server on a
free loopback port, for the subscription tests."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect

from spm_api.cli import uvicorn_options

PROTOCOL = "graphql-transport-ws"


def free_port() -> int:
    """A port nobody listens on now (for a server in another process, which binds it
    itself: it may be taken in between, so such a caller retries)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[str]:
    """``app`` served by uvicorn on a free loopback port, as ``spm-api serve`` serves it
    (``uvicorn_options``); yields its base URL. The
    socket is bound here, on a port the system picks, and handed to uvicorn, so no
    other test process can take the port in between."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port: int = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on",
                                           **uvicorn_options(app.state.settings)))
    task = asyncio.create_task(server.serve(sockets=[listening]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listening.close()


class Subscriber:
    """One WebSocket connection speaking graphql-transport-ws."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self._ids = 0

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._ids += 1
        operation = str(self._ids)
        await self.send({"id": operation, "type": "subscribe",
                         "payload": {"query": query, "variables": variables or {}}})
        return operation

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self, within: float = 5.0) -> dict[str, Any]:
        """The next message other than a keep-alive ping (which is answered)."""
        while True:
            raw = await asyncio.wait_for(self.socket.recv(), within)
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def next_data(self, within: float = 5.0) -> dict[str, Any]:
        message = await self.receive(within)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message["payload"]
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def nothing_within(self, seconds: float) -> bool:
        """True when no message other than pings arrives within ``seconds``."""
        try:
            message = await self.receive(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"expected silence, got {message}")


@asynccontextmanager
async def subscriber(address: str, token: str | None,
                     protocol: str = PROTOCOL) -> AsyncIterator[Subscriber]:
    """A connection that has sent ``connection_init`` with the token and had it
    acknowledged."""
    async with connect(f"ws://{address}/graphql", subprotocols=[protocol]) as socket:  # type: ignore[list-item]
        client = Subscriber(socket)
        payload = {} if token is None else {"Authorization": f"Bearer {token}"}
        await client.send({"type": "connection_init", "payload": payload})
        ack = await client.receive()
        assert ack["type"] == "connection_ack", ack
        yield client
