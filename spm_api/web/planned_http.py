"""``POST /graphql`` answered by the planned read path without Strawberry's HTTP view.

A plannable query needs none of the view's machinery: its body is parsed once, the
token is checked (with the organisation's currency, in one statement) on the connection
the plan reads on, in autocommit — a query needs no ``BEGIN`` and no ``ROLLBACK`` —
and the answer is written to bytes by orjson. Everything else — other
methods and content types, batches, streaming ``Accept`` headers, persisted-operation
refusals, mutations, subscriptions, an unknown token, a query the plan cannot answer,
a plan that fails — is handed to the view untouched, with the body replayed.

In ``check`` mode the view's executor answers every request this lane answers too, and
a difference is answered as ``PLAN_MISMATCH``: the suite compares what clients get.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.types import Message, Receive, Scope, Send
from strawberry.http import GraphQLRequestData

from spm_api.db.replica import LSN_HEADER
from spm_api.domain.tokens import authenticate_reader
from spm_api.graphql.core.context import BEARER, Context
from spm_api.graphql.core.text_input import nul_refusal
from spm_api.graphql.planned import PlanFailed, PlannedReads
from spm_api.observability.requests import note_operation

if TYPE_CHECKING:
    from spm_api.app import GraphQLApp

log = logging.getLogger("spm_api.planned")

#: In the scope of a request the lane hands to the view: the context it authenticated
#: (its read transaction and loaders), for the executor to answer in.
HANDED_CONTEXT = "spm.context"
AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}
LSN_HEADER_BYTES = LSN_HEADER.encode()
JSON_HEADERS = [(b"content-type", b"application/json")]
STREAMING = (b"text/event-stream", b"multipart/mixed")

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""


def _wants_plain_json(scope: Scope) -> bool:
    content_type = _header(scope, b"content-type").split(b";", 1)[0].strip().lower()
    accept = _header(scope, b"accept").lower()
    return (content_type == b"application/json"
            and not any(kind in accept for kind in STREAMING))


async def _body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body, and the messages it came in (to replay them to the view)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _request_data(body: bytes) -> GraphQLRequestData | None:
    """A single operation as the view would read it, or None for anything else."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    query, variables = data.get("query"), data.get("variables")
    operation_name, extensions = data.get("operationName"), data.get("extensions")
    if (not isinstance(variables, dict | None) or not isinstance(extensions, dict | None)
            or not isinstance(operation_name, str | None) or not isinstance(query, str | None)):
        return None
    return GraphQLRequestData(query=query, variables=variables,
                              operation_name=operation_name, extensions=extensions,
                              protocol="http")


def _name(plan: Any) -> str | None:
    name = plan.operation.name
    return None if name is None else str(name.value)


class PlannedHTTP:
    """The lane in front of the GraphQL view (HTTP ``POST`` only)."""

    def __init__(self, view: GraphQLApp) -> None:
        self.view = view
        self.planned: PlannedReads = view.planned

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST" or self.planned.mode == "off"
                or not _wants_plain_json(scope)):
            await self.view(scope, receive, send)
            return
        body, messages = await _body(receive)
        replayed = _replaying(messages, receive)
        answer, context = await self._answer(scope, body)
        if answer is not None and context is not None:  # check mode: compared first
            try:
                answer = await self._checked(answer, {**scope, HANDED_CONTEXT: context},
                                             replayed)
            finally:
                await context.close()
        elif answer is None:
            # The view reads the request again; a context already authenticated (and the
            # rounds it worked out) is handed over with it.
            try:
                await self.view(scope if context is None else {**scope, HANDED_CONTEXT: context},
                                replayed, send)
            finally:
                if context is not None:  # closed by the view's execution already, if it ran
                    await context.close()
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*JSON_HEADERS, (b"content-length", str(len(answer)).encode())]})
        await send({"type": "http.response.body", "body": answer})

    async def _answer(self, scope: Scope, body: bytes) -> tuple[bytes | None, Context | None]:
        """The planned answer's bytes, or None to hand the request to the view, with the
        context to hand over (None: the view makes its own)."""
        request = _request_data(body)
        if request is None:
            return None, None
        resolved = self.view.persisted.resolve(request)
        if not isinstance(resolved, GraphQLRequestData) or not resolved.query:
            return None, None  # the view words the refusal
        if nul_refusal(resolved.query, resolved.variables) is not None:
            return None, None
        plan = self.planned.plan(resolved.query, resolved.operation_name)
        if plan is None:
            return None, None
        authorization = _header(scope, b"authorization").decode("latin-1")
        token = (authorization[len(BEARER):].strip()
                 if authorization.lower().startswith(BEARER) else "")
        if not token:
            return None, None
        view = self.view
        context = Context(view.session_factory, view.plugins, view.bus, routing=view.routing)
        handed = False
        autocommit = view.autocommit_reads
        try:
            async with context.lock:
                # A query's statements need no transaction: under READ COMMITTED each
                # sees its own snapshot either way, so none is begun (nor ended).
                if autocommit:
                    await context.session.connection(execution_options=AUTOCOMMIT)
                found = await authenticate_reader(context.session, token)
            context.authenticated(token, None if found is None else found[0])
            if found is None:
                return None, None
            if view.routing is not None:
                echoed = _header(scope, LSN_HEADER_BYTES).decode("latin-1") or None
                await context.read_replica(echoed, autocommit=autocommit)
            try:
                data = await self.planned.data(plan, resolved, context, found[1])
            except PlanFailed:
                note_operation(_name(plan), "query", "error")
                return orjson.dumps(PlannedReads.mismatch("(failed)", None)), None
            if data is not None:
                note_operation(_name(plan), "query", "ok")
            handed = data is None or self.planned.checking
            return (None if data is None else orjson.dumps({"data": data})), (
                context if handed else None)
        finally:
            if not handed:
                await context.close()

    async def _checked(self, answer: bytes, scope: Scope, receive: Receive) -> bytes:
        """The lane's answer if the executor gives the same, else ``PLAN_MISMATCH``."""
        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        await self.view(scope, receive, capture)
        executed: Any = orjson.loads(b"".join(message.get("body", b"") for message in captured
                                              if message["type"] == "http.response.body"))
        planned = orjson.loads(answer)
        if executed == planned:
            return answer
        return orjson.dumps(PlannedReads.mismatch(planned.get("data"), executed))
