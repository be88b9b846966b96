"""Size limits enforced before anything is parsed: HTTP request bodies and WebSocket
messages.

A body is refused from its ``Content-Length`` when that already says too much, and
otherwise by counting bytes as they arrive, so a missing or lying header (chunked
uploads) is refused as soon as the limit is passed, never read whole.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: WebSocket close code for a message too big to process (RFC 6455).
MESSAGE_TOO_BIG = 1009


class BodyTooLarge(Exception):
    """Raised into the application when the body it is reading passes the limit."""


def _too_large_body(limit: int) -> bytes:
    return json.dumps({"errors": [{
        "message": f"the request body is larger than {limit} bytes",
        "extensions": {"code": "REQUEST_TOO_LARGE", "maxBytes": limit},
    }]}).encode()


class BodySizeLimit:
    """ASGI middleware: 413 with a JSON error once a request body passes ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:  # the application answered before reading it all: nothing to fix
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = _too_large_body(self.max_bytes)
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class WebSocketMessageLimit:
    """ASGI middleware: a WebSocket message over ``max_bytes`` closes the connection with
    1009 (message too big); the application sees the client leave and never reads it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        closed = False

        async def checking_receive() -> Message:
            nonlocal closed
            if closed:
                return {"type": "websocket.disconnect", "code": MESSAGE_TOO_BIG}
            message = await receive()
            if message["type"] == "websocket.receive":
                size = len(message.get("bytes") or b"") + len(
                    (message.get("text") or "").encode())
                if size > self.max_bytes:
                    closed = True
                    await send({"type": "websocket.close", "code": MESSAGE_TOO_BIG,
                                "reason": "message too big"})
                    return {"type": "websocket.disconnect", "code": MESSAGE_TOO_BIG}
            return message

        async def guarded_send(message: Message) -> None:
            if not closed:
                await send(message)

        await self.app(scope, checking_receive, guarded_send)
