"""A small, real HTTP contractor system for the http_json integration's tests.

It listens on a free loopback port (``http.server.ThreadingHTTPServer`` in a thread)
and answers the contract in the README under ``/api``: ``POST /api/engagements``,
``POST /api/cancellations`` and ``POST /api/quotes``. Its behaviour can be switched while it runs:

- ``NORMAL``: answers as the contract says;
- ``ERROR``: answers 500 without taking the engagement;
- ``HANG``: takes the engagement, then waits ``hang_seconds`` before answering (so a
  client that gave up and tries again finds it already taken);
- ``GARBAGE``: answers ``garbage_status`` with the ``garbage`` body (not JSON, JSON of
  the wrong shape, an unknown status — whatever the test puts there);

and ``stop()`` takes it down (connections are refused) until ``start()`` brings it back
on the same port, with what it had already received. While it is down the port stays
bound, though not listening (so connecting is refused), so no other process — another
test process running beside this one — can take it meanwhile; ``close()`` lets it go.

It honours ``Idempotency-Key``: a repeated key gets the first answer again and no
second engagement. Every request is recorded, so tests can count the attempts per key
on the contractor's side.
"""

from __future__ import annotations

import enum
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/api"


class Behaviour(enum.Enum):
    NORMAL = "normal"
    ERROR = "error"
    HANG = "hang"
    GARBAGE = "garbage"


@dataclass(frozen=True)
class Received:
    """One request as the contractor saw it; header names in lower case."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Engagement:
    """An engagement the contractor took: the request's body and the answer it gave."""

    body: Any
    answer: dict[str, str]


@dataclass
class ContractorServer:
    host: str = "127.0.0.1"
    port: int = 0
    behaviour: Behaviour = Behaviour.NORMAL
    #: The status given to new engagements: "received", "accepted" or "declined".
    status: str = "received"
    #: When set, requests without ``Authorization: Bearer <required_token>`` get 401.
    required_token: str | None = None
    hang_seconds: float = 2.0
    garbage: bytes = b"<html><body>Bad Gateway</body></html>"
    garbage_status: int = 200
    garbage_type: str = "text/html"
    #: The answer to quote requests; None answers 1234.50 in the requested currency.
    quote: dict[str, Any] | None = None
    requests: list[Received] = field(default_factory=list)
    #: Idempotency key → the engagement taken under it, in the order taken.
    engagements: dict[str, Engagement] = field(default_factory=dict)
    #: Idempotency keys of the engagements cancelled, in the order cancelled.
    cancelled: list[str] = field(default_factory=list)
    _quotes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    #: The port, bound and not listening, while the server is down.
    _held: socket.socket | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}{PREFIX}"

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self) -> ContractorServer:
        """Listen (again): on a free port the first time, on the same port after."""
        assert self._httpd is None, "already running"
        self._release.clear()
        self._let_go()
        httpd = _Server((self.host, self.port), _Handler)
        httpd.contractor = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="contractor",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: from now on connections to the port are refused."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._release.set()  # a hanging answer goes out now
        httpd.shutdown()
        httpd.server_close()
        self._held = _bound(self.host, self.port)
        thread.join(timeout=5)
        self._httpd = self._thread = None

    def close(self) -> None:
        """Stop, and free the port."""
        self.stop()
        self._let_go()

    def _let_go(self) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None

    def attempts(self, key: str) -> int:
        """How many engagement requests arrived with this Idempotency-Key."""
        with self._lock:
            return sum(1 for request in self.requests
                       if request.path == f"{PREFIX}/engagements"
                       and request.headers.get("idempotency-key") == key)

    def cancellation_attempts(self, key: str) -> int:
        """How many cancellations arrived with this Idempotency-Key."""
        with self._lock:
            return sum(1 for request in self.requests
                       if request.path == f"{PREFIX}/cancellations"
                       and request.headers.get("idempotency-key") == key)

    def received(self, path: str) -> list[Received]:
        with self._lock:
            return [request for request in self.requests if request.path == f"{PREFIX}{path}"]

    # --- answering (in the server's threads) -------------------------------------------

    def _answer(self, request: Received) -> tuple[int, str, bytes]:
        with self._lock:
            self.requests.append(request)
        if self.required_token is not None and (
                request.headers.get("authorization") != f"Bearer {self.required_token}"):
            return _json(401, {"error": "unauthorised"})
        if self.behaviour is Behaviour.ERROR:
            return 500, "text/plain", b"Internal Server Error: database unavailable"
        if self.behaviour is Behaviour.GARBAGE:
            return self.garbage_status, self.garbage_type, self.garbage
        if request.path == f"{PREFIX}/engagements":
            answer = self._engage(request)
        elif request.path == f"{PREFIX}/quotes":
            answer = self._quote(request)
        elif request.path == f"{PREFIX}/cancellations":
            answer = self._cancel(request)
        else:
            return _json(404, {"error": f"no such endpoint: {request.path}"})
        if self.behaviour is Behaviour.HANG:
            self._release.wait(self.hang_seconds)
        return answer

    def _engage(self, request: Received) -> tuple[int, str, bytes]:
        key = request.headers.get("idempotency-key")
        if not key:
            return _json(400, {"error": "Idempotency-Key is required"})
        with self._lock:
            if key in self.engagements:  # a repeat: the first answer, nothing new
                return _json(200, self.engagements[key].answer)
            answer = {"reference": f"E-{len(self.engagements) + 1}", "status": self.status}
            self.engagements[key] = Engagement(request.body, answer)
        return _json(201, answer)

    def _cancel(self, request: Received) -> tuple[int, str, bytes]:
        """Cancel the engagement taken under the key; a repeat changes nothing."""
        key = request.headers.get("idempotency-key")
        with self._lock:
            if not key or key not in self.engagements:
                return _json(404, {"error": f"no engagement under {key!r}"})
            if key not in self.cancelled:
                self.cancelled.append(key)
            reference = self.engagements[key].answer["reference"]
        return _json(200, {"status": "cancelled", "reference": f"C-{reference}"})

    def _quote(self, request: Received) -> tuple[int, str, bytes]:
        with self._lock:
            self._quotes += 1
            number = self._quotes
        if self.quote is not None:
            return _json(200, self.quote)
        currency = request.body.get("currency") if isinstance(request.body, dict) else None
        return _json(200, {"amount": "1234.50", "currency": currency,
                           "reference": f"Q-{number}", "valid_until": "2026-12-31"})


def _bound(host: str, port: int) -> socket.socket:
    """A socket holding ``port``: bound, never listening, so connecting is refused."""
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind((host, port))
    return holder


def _json(status: int, answer: Any) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(answer).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    contractor: ContractorServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw
        request = Received(method="POST", path=self.path,
                           headers={name.lower(): value for name, value in self.headers.items()},
                           body=body)
        status, content_type, content = self.server.contractor._answer(request)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read ``requests`` instead."""
