"""The HTTP and WebSocket protections every request passes through, outermost first."""

from __future__ import annotations

from starlette.middleware import Middleware

from spm_api.settings import Settings
from spm_api.web.limits import BodySizeLimit, WebSocketMessageLimit


def middleware(settings: Settings) -> list[Middleware]:
    """Size limits on what clients send, before any of it is parsed."""
    return [
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        Middleware(WebSocketMessageLimit, max_bytes=settings.max_ws_message_bytes),
    ]
