"""The legacy ``graphql-ws`` protocol (``SPM_GRAPHQL_WS_LEGACY``) closing a connection
with the codes graphql-transport-ws uses: 4401 for a missing or bad token, 4400 for a
malformed ``connection_init``, 4429 for a second one (Strawberry's handler closes with
1011 or 1000, which clients cannot tell from a server fault or a normal close)."""

from __future__ import annotations

from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage,
    StartMessage,
)

from spm_api.graphql.core.context import Context
from spm_api.graphql.core.persisted import refuse_ws_payload
from spm_api.graphql.core.websocket import UNAUTHORIZED, authenticate_connection

BAD_REQUEST = 4400
TOO_MANY_INITIALISATION_REQUESTS = 4429


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    _initialised = False

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self._initialised:
            await self.websocket.close(code=TOO_MANY_INITIALISATION_REQUESTS,
                                       reason="Too many initialisation requests")
            return
        self._initialised = True
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            await self.send_message({"type": "connection_error"})
            await self.websocket.close(code=BAD_REQUEST,
                                       reason="Invalid connection init payload")
            return
        if not await authenticate_connection(self.context, payload or {}):
            await self.send_message({"type": "connection_error",
                                     "payload": {"message": "a valid API token is required"}})
            await self.websocket.close(code=UNAUTHORIZED, reason="Unauthorized")
            return
        await super().handle_connection_init(message)

    async def handle_start(self, message: StartMessage) -> None:
        """Persisted operations' rules, as over graphql-transport-ws."""
        if self.connection_acknowledged and (
                refused := refuse_ws_payload(self.view, message.get("payload"))):
            await self.send_message({"type": "error", "id": message["id"],
                                     "payload": refused.formatted})
            return
        await super().handle_start(message)
