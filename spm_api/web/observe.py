"""The outermost ASGI middleware: every HTTP request gets an id (the client's
``X-Request-Id`` when sane, else a fresh one), returned in ``X-Request-Id`` and named in
masked errors and JSON log lines; a GraphQL request is counted once it is answered
(metrics) and logged as one line (``SPM_LOG_FORMAT=json``).

What the request ran is filled in on the way (``observability.requests``); this only
opens the record, reads the status and closes it: no per-field work.
"""

from __future__ import annotations

from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spm_api.observability import logs, metrics
from spm_api.observability.requests import CURRENT, RequestStats, new_request_id

REQUEST_ID_HEADER = b"x-request-id"
#: Only these requests are counted and logged; probes and scrapes would drown them.
OBSERVED_PATHS = frozenset({"/graphql"})


class RequestObserver:
    def __init__(self, app: ASGIApp, metered: bool = True, logged: bool = False) -> None:
        self.app = app
        self.metered = metered
        self.logged = logged

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((value for key, value in scope["headers"] if key == REQUEST_ID_HEADER),
                    None)
        stats = RequestStats(new_request_id(None if sent is None
                                            else sent.decode("latin-1")))
        header = (REQUEST_ID_HEADER, stats.request_id.encode())
        status = 500
        started = perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        reset = CURRENT.set(stats)
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            status = 500
            raise
        finally:
            CURRENT.reset(reset)
            if scope["path"] in OBSERVED_PATHS:
                self._finish(stats, scope, status, perf_counter() - started)

    def _finish(self, stats: RequestStats, scope: Scope, status: int, seconds: float
                ) -> None:
        if stats.outcome is None:
            if status < 400:
                return  # no operation ran: the GraphiQL page
            stats.outcome = "failed" if status >= 500 else "refused"
        if self.metered:
            metrics.record_request(stats, seconds)
        if self.logged:
            logs.log_request(stats, scope["method"], scope["path"], status, seconds)
