"""Rate limits on /graphql: requests and query cost per minute, per token (per client
address without a valid token) and per organisation.

Windows are fixed minutes. A request is charged to every counter that applies at once,
and only when none of them would pass its limit; otherwise it is refused with 429, a
``Retry-After`` header and a GraphQL-shaped ``RATE_LIMITED`` error, before the GraphQL
application sees it. Counters live in this process's memory or in Redis, where one Lua
script checks and charges them atomically for every process sharing the server.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from graphql import GraphQLSchema
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from spm_api.settings import Settings

log = logging.getLogger(__name__)

#: Seconds in one window.
WINDOW = 60
#: The clock windows are counted on (tests move it).
clock: Callable[[], float] = time.time
#: Tokens whose organisation is remembered, and for how many seconds.
IDENTITY_CACHE_SIZE = 10_000
IDENTITY_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Charge:
    """What one request adds to one counter, and the counter's limit."""

    key: str
    amount: int
    limit: int
    #: ``token``, ``address`` or ``organisation``.
    subject: str
    #: ``requests`` or ``cost``.
    measure: str


class Counters(Protocol):
    async def charge(self, charges: Sequence[Charge], window: int) -> int | None:
        """Add every charge, unless one would pass its limit: then its index."""

    async def close(self) -> None: ...


class MemoryCounters:
    """Counters of this process: the current window's only."""

    def __init__(self) -> None:
        self.window = -1
        self.used: dict[str, int] = {}

    async def charge(self, charges: Sequence[Charge], window: int) -> int | None:
        if window != self.window:
            self.window, self.used = window, {}
        for index, charge in enumerate(charges):
            if charge.amount and self.used.get(charge.key, 0) + charge.amount > charge.limit:
                return index
        for charge in charges:
            if charge.amount:
                self.used[charge.key] = self.used.get(charge.key, 0) + charge.amount
        return None

    async def close(self) -> None:
        self.used = {}


#: KEYS: the counters; ARGV: the keys' time to live, then amount and limit per key.
_CHARGE = """
local ttl = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local amount = tonumber(ARGV[2 * i])
  if amount > 0 and tonumber(redis.call('GET', key) or '0') + amount
      > tonumber(ARGV[2 * i + 1]) then
    return i
  end
end
for i, key in ipairs(KEYS) do
  local amount = tonumber(ARGV[2 * i])
  if amount > 0 then
    redis.call('INCRBY', key, amount)
    redis.call('EXPIRE', key, ttl)
  end
end
return 0
"""


class RedisCounters:
    """Counters in Redis, shared by every process using it. When Redis does not answer,
    requests pass (and a warning is logged): the limits protect availability, they must
    not take it away."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = f"{prefix}ratelimit:"
        self.client: Redis | None = None

    async def charge(self, charges: Sequence[Charge], window: int) -> int | None:
        from redis.asyncio import Redis

        if self.client is None:
            self.client = Redis.from_url(self.url, socket_timeout=2,
                                         socket_connect_timeout=2)
        keys = [f"{self.prefix}{window}:{charge.key}" for charge in charges]
        arguments: list[int] = [WINDOW + 5]
        for charge in charges:
            arguments += [charge.amount, charge.limit]
        try:
            refused = int(await self.client.eval(
                _CHARGE, len(keys), *keys, *arguments))
        except Exception as error:  # any Redis failure: let the request through
            log.warning("rate limits not applied, Redis failed: %s", error)
            return None
        return refused - 1 if refused else None

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None


#: The organisation of a valid bearer token, or None.
Identify = Callable[[str], Awaitable[int | None]]
#: The cost of a query text (0 when it does not parse).
Cost = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class Limits:
    requests: int
    cost: int
    organisation_requests: int
    organisation_cost: int


def _refusal(charge: Charge, retry_after: int) -> bytes:
    who = {"token": "this token", "address": "this client address",
           "organisation": "this organisation"}[charge.subject]
    what = "requests" if charge.measure == "requests" else "query cost"
    return json.dumps({"errors": [{
        "message": f"rate limited: {who} has used its {what} of {charge.limit} per minute; "
                   f"retry after {retry_after} s",
        "extensions": {"code": "RATE_LIMITED", "retryAfter": retry_after,
                       "limit": charge.limit, "measure": charge.measure,
                       "subject": charge.subject},
    }]}).encode()


class _Replay:
    """A receive callable giving the body already read, then the client's messages."""

    __slots__ = ("messages", "receive")

    def __init__(self, messages: list[Message], receive: Receive) -> None:
        self.messages = messages
        self.receive = receive

    async def __call__(self) -> Message:
        if self.messages:
            return self.messages.pop(0)
        return await self.receive()


class RateLimit:
    """ASGI middleware: HTTP requests to ``path`` are charged, or refused with 429."""

    def __init__(self, app: ASGIApp, counters: Counters, limits: Limits, identify: Identify,
                 cost: Cost, path: str = "/graphql") -> None:
        self.app = app
        self.counters = counters
        self.limits = limits
        self.identify = identify
        self.cost = cost
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        cost = 0
        if self.limits.cost or self.limits.organisation_cost:
            body = b""
            while True:  # bounded by the body size limit outside
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
            cost = sum(map(self.cost, _queries(scope, body)))
        charges = await self._charges(scope, cost)
        now = clock()
        window = int(now // WINDOW)
        refused = await self.counters.charge(charges, window)
        if refused is not None:
            retry_after = max(1, math.ceil((window + 1) * WINDOW - now))
            await _refuse(send, charges[refused], retry_after)
            return
        await self.app(scope, _Replay(messages, receive) if messages else receive, send)

    async def _charges(self, scope: Scope, cost: int) -> list[Charge]:
        token = _bearer(scope)
        organisation = await self.identify(token) if token else None
        if organisation is None or token is None:
            client = scope.get("client")
            subject, key = "address", f"address:{client[0] if client else 'unknown'}"
        else:
            from spm_api.domain.tokens import hash_token

            subject, key = "token", f"token:{hash_token(token)}"
        charges = [Charge(f"{key}:requests", 1, self.limits.requests, subject, "requests"),
                   Charge(f"{key}:cost", cost, self.limits.cost, subject, "cost")]
        if organisation is not None:
            key = f"organisation:{organisation}"
            charges += [Charge(f"{key}:requests", 1, self.limits.organisation_requests,
                               "organisation", "requests"),
                        Charge(f"{key}:cost", cost, self.limits.organisation_cost,
                               "organisation", "cost")]
        return [charge for charge in charges if charge.limit > 0]


async def _refuse(send: Send, charge: Charge, retry_after: int) -> None:
    body = _refusal(charge, retry_after)
    await send({"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode()),
    ]})
    await send({"type": "http.response.body", "body": body})


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text = value.decode("latin-1")
            if text.lower().startswith("bearer "):
                return text[len("bearer "):].strip() or None
    return None


def _queries(scope: Scope, body: bytes) -> list[str]:
    """The query texts of a request: a GET's ``query`` parameter, a JSON body's
    ``query`` (or each of a batch's); nothing the server would not run either."""
    if scope["method"] == "GET":
        found = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("query", [])
        return found[:1]
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return []
    items = payload if isinstance(payload, list) else [payload]
    return [item["query"] for item in items
            if isinstance(item, dict) and isinstance(item.get("query"), str)]


class TokenOrganisations:
    """The organisation of a bearer token, looked up in the database and remembered for
    ``IDENTITY_SECONDS`` (a revoked token is counted a little longer: harmless)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory
        self.known: dict[str, tuple[float, int | None]] = {}

    async def __call__(self, token: str) -> int | None:
        from spm_api.domain.tokens import authenticate

        now = time.monotonic()
        remembered = self.known.get(token)
        if remembered is not None and remembered[0] > now:
            return remembered[1]
        async with self.session_factory() as session:
            actor = await authenticate(session, token)
        if len(self.known) >= IDENTITY_CACHE_SIZE:
            self.known.clear()
        organisation = actor.organisation_id if actor is not None else None
        self.known[token] = (now + IDENTITY_SECONDS, organisation)
        return organisation


def make_counters(settings: Settings) -> Counters:
    """The counters ``SPM_RATE_LIMIT_BACKEND`` chooses."""
    if settings.rate_limit_backend == "redis":
        return RedisCounters(settings.redis_url, settings.redis_channel_prefix)
    return MemoryCounters()


def query_cost(schema: GraphQLSchema, settings: Settings) -> Cost:
    """The cost of a query text as the cost limit counts it, through the same parse
    cache the executor's checks use; 0 for what does not parse."""
    from graphql import GraphQLError

    from spm_api.graphql.core.documents import document_checks
    from spm_api.graphql.core.limits import document_cost

    checks = document_checks(settings)

    @lru_cache(maxsize=settings.document_cache_size)
    def cost(query: str) -> int:
        try:
            document = checks.parse(query)
        except GraphQLError:
            return 0
        return document_cost(schema, document, settings.max_page_size,
                             settings.cost_list_size)

    return cost


def limits(settings: Settings) -> Limits:
    return Limits(requests=settings.rate_limit_requests_per_minute,
                  cost=settings.rate_limit_cost_per_minute,
                  organisation_requests=settings.rate_limit_organisation_requests_per_minute,
                  organisation_cost=settings.rate_limit_organisation_cost_per_minute)


def middleware(settings: Settings, counters: Counters,
               session_factory: async_sessionmaker[AsyncSession], schema: GraphQLSchema
               ) -> Middleware:
    """The rate limit middleware for these settings, charging ``counters``."""
    return Middleware(RateLimit, counters=counters, limits=limits(settings),
                      identify=TokenOrganisations(session_factory),
                      cost=query_cost(schema, settings))
