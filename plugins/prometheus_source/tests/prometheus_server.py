"""A small, real Prometheus-style query API for the prometheus source's tests.

It listens on a free loopback port (``http.server.ThreadingHTTPServer`` in a thread) and
answers ``GET /api/v1/query?query=<expression>`` from ``values``: a number answers an
instant vector of one sample, a list of numbers one sample per series, None an empty
vector, and an expression it does not know a 400 ``bad_data`` error, as Prometheus does.
``error_status`` set makes every answer that status with an error body; ``stop()`` takes
it down (connections refused, the port kept bound so no other process takes it) until
``start()`` brings it back on the same port; ``close()`` lets the port go.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class PrometheusServer:
    host: str = "127.0.0.1"
    port: int = 0
    values: dict[str, float | str | list[float] | None] = field(default_factory=dict)
    error_status: int | None = None
    #: When set, requests without ``Authorization: Bearer <required_token>`` get 401.
    required_token: str | None = None
    #: Every expression asked, in order.
    asked: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _held: socket.socket | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> PrometheusServer:
        assert self._httpd is None, "already running"
        if self._held is not None:
            self._held.close()
            self._held = None
        httpd = _Server((self.host, self.port), _Handler)
        httpd.prometheus = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        httpd.shutdown()
        httpd.server_close()
        holder = socket.socket()
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind((self.host, self.port))
        self._held = holder
        thread.join(timeout=5)
        self._httpd = self._thread = None

    def close(self) -> None:
        self.stop()
        if self._held is not None:
            self._held.close()
            self._held = None

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, Any]:
        parts = urlsplit(path)
        expression = (parse_qs(parts.query).get("query") or [""])[0]
        with self._lock:
            self.asked.append(expression)
        if self.required_token is not None and (
                headers.get("authorization") != f"Bearer {self.required_token}"):
            return 401, {"status": "error", "errorType": "unauthorized",
                         "error": "bad token"}
        if parts.path != "/api/v1/query":
            return 404, {"status": "error", "errorType": "not_found", "error": parts.path}
        if self.error_status is not None:
            return self.error_status, {"status": "error", "errorType": "unavailable",
                                       "error": "the TSDB is not ready"}
        if expression not in self.values:
            return 400, {"status": "error", "errorType": "bad_data",
                         "error": f"parse error: unknown expression {expression!r}"}
        value = self.values[expression]
        now = round(time.time(), 3)
        if value is None:
            result: list[Any] = []
        elif isinstance(value, list):
            result = [{"metric": {"instance": f"node-{index}"}, "value": [now, str(one)]}
                      for index, one in enumerate(value)]
        else:
            result = [{"metric": {}, "value": [now, str(value)]}]
        return 200, {"status": "success", "data": {"resultType": "vector", "result": result}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    prometheus: PrometheusServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        status, answer = self.server.prometheus.answer(
            self.path, {name.lower(): value for name, value in self.headers.items()})
        content = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read ``asked`` instead."""
