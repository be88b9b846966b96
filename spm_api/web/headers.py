"""Security headers on every HTTP response.

The Content-Security-Policy allows what the GraphiQL page needs and nothing else: its
scripts and styles from this origin, inline styles (GraphiQL and CodeMirror set them on
elements; the page's one ``<style>`` block too), fetch and WebSocket to this origin. Its
inline ``<script type="application/json">`` config is data, not script, so it needs no
``'unsafe-inline'`` for scripts.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: A year, as HSTS preload lists ask; sent over HTTPS only.
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """ASGI middleware setting the headers below on each response that lacks them."""

    def __init__(self, app: ASGIApp, content_security_policy: str) -> None:
        self.app = app
        self.headers = {
            "Content-Security-Policy": content_security_policy,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Cross-Origin-Resource-Policy": "same-origin",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if secure:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
