"""The HTTP and WebSocket protections every request passes through, outermost first:
security headers (on every response, refusals included), CORS, then size limits on what
clients send, before any of it is parsed, then rate limits (when enabled)."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from spm_api.settings import Settings
from spm_api.web.headers import SecurityHeaders
from spm_api.web.limits import BodySizeLimit, WebSocketMessageLimit


def middleware(settings: Settings, rate_limit: Middleware | None = None
               ) -> list[Middleware]:
    stack = [Middleware(SecurityHeaders,
                        content_security_policy=settings.content_security_policy)]
    origins = settings.allowed_cors_origins()
    if origins:  # closed by default: no CORS headers, browsers keep other origins out
        stack.append(Middleware(CORSMiddleware, allow_origins=origins,
                                allow_methods=["GET", "POST"],
                                allow_headers=["Authorization", "Content-Type", "SPM-LSN"],
                                expose_headers=["SPM-LSN"],
                                max_age=600))
    stack += [
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        Middleware(WebSocketMessageLimit, max_bytes=settings.max_ws_message_bytes),
    ]
    if rate_limit is not None:
        stack.append(rate_limit)
    return stack
