"""Subscriptions over WebSocket: authentication in ``connection_init`` and keep-alive
pings, on top of Strawberry's ``graphql-transport-ws`` handler."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
)

from spm_api.graphql.core.context import Context

#: graphql-transport-ws close codes.
UNAUTHORIZED = 4401


async def authenticate_connection(context: Context, payload: Any) -> bool:
    """Authenticate from ``{"Authorization": "Bearer <token>"}`` (the header's name in
    any case), then let the connection's session go: events use sessions of their own."""
    if context.actor is None and isinstance(payload, dict):
        authorization = next((value for key, value in payload.items()
                              if key.lower() == "authorization" and isinstance(value, str)),
                             None)
        await context.authenticate(authorization)
        await context.close()
    return context.actor is not None


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Closes an unauthenticated connection with 4401 Unauthorized, and pings an
    acknowledged one every ``keep_alive_interval`` seconds (the view's) so idle
    connections stay open through proxies and dead ones are noticed."""

    _pinging: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if not self.connection_timed_out and not self.connection_init_received:
            payload = message.get("payload") or {}
            if not await authenticate_connection(self.context, payload):
                if self.connection_init_timeout_task:
                    self.connection_init_timeout_task.cancel()
                self.connection_init_received = True
                await self.websocket.close(code=UNAUTHORIZED, reason="Unauthorized")
                return
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._pinging is None:
            self._pinging = asyncio.create_task(self._ping_forever())

    async def _ping_forever(self) -> None:
        interval = getattr(self.view, "keep_alive_interval", None) or 15.0
        with contextlib.suppress(Exception):  # the connection is gone: stop pinging
            while True:
                await asyncio.sleep(interval)
                await self.send_message({"type": "ping"})

    async def shutdown(self) -> None:
        if self._pinging is not None:
            self._pinging.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinging
        await super().shutdown()
