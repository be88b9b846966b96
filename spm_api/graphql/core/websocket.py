"""Subscriptions over WebSocket: authentication in ``connection_init``, keep-alive pings,
the caps on connections and on an organisation's subscriptions, and the hand-over of
shareable subscriptions to the process's fan-out (``core/fanout.py``), on top of
Strawberry's ``graphql-transport-ws`` handler.

Every frame of a connection goes through its bounded ``Outbox``, in order.
"""

from __future__ import annotations

import asyncio
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from spm_api.graphql.core.context import Context
from spm_api.graphql.core.fanout import FanOut, Group, Member, encode, shared_key
from spm_api.graphql.core.outbox import Outbox
from spm_api.graphql.core.persisted import refuse_ws_payload
from spm_api.observability.metrics import EVENTS_DELIVERED, WS_CONNECTIONS

#: graphql-transport-ws close codes.
UNAUTHORIZED = 4401
INIT_TIMEOUT = 4408
#: The process already holds ``SPM_WS_MAX_CONNECTIONS`` connections.
TOO_MANY_CONNECTIONS = 4503
#: The organisation already runs ``SPM_WS_MAX_SUBSCRIPTIONS_PER_ORGANISATION``.
TOO_MANY_SUBSCRIPTIONS = 4504

PING = encode({"type": "ping"})
OWN_DELIVERED = EVENTS_DELIVERED.labels("own")
#: Frames a connection may queue when the view does not say.
DEFAULT_SEND_BUFFER = 256


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


class SharedOperation(Operation[Context, None]):
    """An operation served by a fan-out group rather than a task of its own."""

    __slots__ = ("group", "member")

    def __init__(self, handler: TransportWSHandler, message: SubscribeMessage,
                 group: Group, member: Member) -> None:
        # The group's document and name: one copy for every member, not one each.
        super().__init__(handler, message["id"], group.key.query, None,
                         group.key.operation_name)
        self.group = group
        self.member = member


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Closes an unauthenticated connection with 4401 Unauthorized, and pings an
    acknowledged one every ``keep_alive_interval`` seconds (the view's) so idle
    connections stay open through proxies and dead ones are noticed."""

    _pinging: asyncio.TimerHandle | None = None
    _init_deadline: asyncio.TimerHandle | None = None
    _outbox: Outbox | None = None
    _counted: bool = False

    @property
    def fanout(self) -> FanOut | None:
        hub: FanOut | None = getattr(self.view, "fanout", None)
        return hub

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            limit = getattr(self.view, "ws_send_buffer_messages", DEFAULT_SEND_BUFFER)
            self._outbox = Outbox(getattr(self.websocket, "ws", self.websocket), limit,
                                  self._forget_shared)
        return self._outbox

    async def handle(self) -> None:
        hub = self.fanout
        if hub is not None:
            if hub.connections >= hub.max_connections:
                await self.websocket.close(code=TOO_MANY_CONNECTIONS,
                                           reason="Too many connections")
                return
            hub.connections += 1
        WS_CONNECTIONS.inc()
        try:
            await super().handle()
        finally:
            WS_CONNECTIONS.dec()
            if hub is not None:
                hub.connections -= 1

    async def send_message(self, message: Message) -> None:
        if message["type"] == "next":
            OWN_DELIVERED.inc()
        await self.outbox.put(encode(message))

    def on_request_accepted(self) -> None:
        """``connection_init``'s deadline as a timer rather than Strawberry's task, so
        nothing of it (a finished task, its cancellation's traceback) stays with the
        connection once it is initialised."""
        delay = self.connection_init_wait_timeout.total_seconds()
        self._init_deadline = asyncio.get_running_loop().call_later(delay,
                                                                    self._init_timed_out)

    def _init_timed_out(self) -> None:
        self._init_deadline = None
        if self.connection_init_received:
            return
        self.connection_timed_out = True
        task = asyncio.get_running_loop().create_task(self.websocket.close(
            code=INIT_TIMEOUT, reason="Connection initialisation timeout"))
        task.add_done_callback(self._task_done)
        self.connection_init_timeout_task = task  # awaited by ``shutdown``

    def _cancel_init_deadline(self) -> None:
        if self._init_deadline is not None:
            self._init_deadline.cancel()
            self._init_deadline = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if not self.connection_timed_out:
            self._cancel_init_deadline()
        if not self.connection_timed_out and not self.connection_init_received:
            payload = message.get("payload") or {}
            if not await authenticate_connection(self.context, payload):
                self.connection_init_received = True
                await self.websocket.close(code=UNAUTHORIZED, reason="Unauthorized")
                return
        await super().handle_connection_init(message)
        # Authenticated: the payload (the token, in a dict of its own) is not needed.
        self.context.connection_params = None
        if self.connection_acknowledged and self._pinging is None:
            self._schedule_ping()

    def _schedule_ping(self) -> None:
        interval = getattr(self.view, "keep_alive_interval", None) or 15.0
        self._pinging = asyncio.get_running_loop().call_later(interval, self._ping)

    def _ping(self) -> None:
        """A timer rather than a task: an idle connection holds no coroutine for it."""
        if self.outbox.closed:
            return
        self.outbox.offer(PING)
        self._schedule_ping()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        hub, actor = self.fanout, self.context.actor
        operation_id = message["id"]
        if self.connection_acknowledged and (
                refused := refuse_ws_payload(self.view, message.get("payload"))):
            await self.send_message({"id": operation_id, "type": "error",
                                     "payload": [refused.formatted]})
            return
        if (hub is None or actor is None or not self.connection_acknowledged
                or operation_id in self.operations
                or (self.max_subscriptions_per_connection is not None
                    and len(self.operations) >= self.max_subscriptions_per_connection)):
            await super().handle_subscribe(message)  # refuses as the protocol says
            return
        payload = message["payload"]
        key = shared_key(actor, payload["query"], payload.get("variables"),
                         payload.get("operationName"))
        if hub.subscriptions[actor.organisation_id] >= hub.max_subscriptions_per_organisation:
            self.outbox.close(TOO_MANY_SUBSCRIPTIONS,
                              "Too many subscriptions for the organisation")
            return
        if key is None:
            await super().handle_subscribe(message)
            operation = self.operations.get(operation_id)
            if operation is not None and operation.task is not None:
                organisation_id = actor.organisation_id
                hub.count(organisation_id, 1)
                operation.task.add_done_callback(lambda _: hub.count(organisation_id, -1))
            return
        token = self.context.token
        assert token is not None
        member = Member(self.outbox, operation_id, token)
        group = hub.join(key, member, self.context, actor)
        self.operations[operation_id] = SharedOperation(self, message, group, member)

    def _forget_shared(self, operation_id: str) -> None:
        if isinstance(self.operations.get(operation_id), SharedOperation):
            del self.operations[operation_id]

    async def cleanup_operation(self, operation_id: str) -> None:
        operation = self.operations.get(operation_id)
        if isinstance(operation, SharedOperation):
            del self.operations[operation_id]
            if self.fanout is not None:
                self.fanout.leave(operation.group, operation.member)
            return
        await super().cleanup_operation(operation_id)

    async def shutdown(self) -> None:
        self._cancel_init_deadline()
        if self._pinging is not None:
            self._pinging.cancel()
        await super().shutdown()
        if self._outbox is not None:
            self._outbox.discard()
