"""The per-request context: one session, the authenticated actor, the loaders.

A WebSocket connection has one context for its whole life, but every event a
subscription delivers is read in an *event scope* of its own: a fresh session and
fresh loaders, bound to the operation's task through a context variable, so events
never share a session with each other or with another subscription.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spm_api.db.replica import LSN_HEADER, ReadRouting
from spm_api.domain.actor import Actor
from spm_api.domain.session import Session, SessionFactory
from spm_api.domain.tokens import authenticate
from spm_api.graphql.core.loaders import Loaders
from spm_api.observability.requests import note_actor
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus

if TYPE_CHECKING:
    from spm_api.graphql.planned.events import EventPlans

BEARER = "bearer "


@dataclass
class EventScope:
    session: Session
    loaders: Loaders
    lock: asyncio.Lock
    #: Work of the event's execution still running when its response was built.
    background: list[asyncio.Future[Any]] = field(default_factory=list)


async def settle(background: list[asyncio.Future[Any]]) -> None:
    """Wait until every future in ``background`` (and any added meanwhile) is done;
    their outcomes were already dropped from the response."""
    while background:
        pending = list(background)
        background.clear()
        await asyncio.gather(*pending, return_exceptions=True)


_EVENT_SCOPE: ContextVar[EventScope | None] = ContextVar("spm_event_scope", default=None)


@dataclass
class Context:
    session_factory: SessionFactory
    plugins: PluginHost
    bus: EventBus
    request: Any = None
    response: Any = None
    actor: Actor | None = None
    #: Set by Strawberry from a WebSocket's ``connection_init`` payload.
    connection_params: dict[str, Any] | None = None
    #: Subscription events the planned read path writes (None: the executor writes all).
    event_plans: EventPlans | None = None
    #: When the bus message behind the event being written was published (0: none).
    published_at: float = 0.0
    #: Where queries read when a replica is configured (None: the primary only).
    routing: ReadRouting | None = None
    #: Set by a mutation that committed: the primary's position after it (the
    #: ``SPM-LSN`` response header).
    written: str | None = None
    _token: str | None = None
    _routed: bool = False
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _session: Session | None = None
    _loaders: Loaders | None = None
    _background: list[asyncio.Future[Any]] = field(default_factory=list)

    @property
    def lock(self) -> asyncio.Lock:
        """Serialises statements on the session in use (the event's, inside a scope)."""
        scope = _EVENT_SCOPE.get()
        return scope.lock if scope is not None else self._lock

    @property
    def session(self) -> Session:
        """The request's single unit-of-work session, opened on first use."""
        scope = _EVENT_SCOPE.get()
        if scope is not None:
            return scope.session
        if self._session is None:
            self._session = self.session_factory()
        return self._session

    @property
    def loaders(self) -> Loaders:
        scope = _EVENT_SCOPE.get()
        if scope is not None:
            return scope.loaders
        if self._loaders is None:
            assert self.actor is not None, "loaders exist only for authenticated requests"
            self._loaders = Loaders(self.session, self.actor.organisation_id, self._lock)
        return self._loaders

    def settle_before_closing(self, futures: Iterable[asyncio.Future[Any]]) -> None:
        """Keep fields still resolving after the response was built (siblings of a
        failed one) from having their session closed under them: the session in use
        (the request's, or the event's) is closed only once they are done."""
        scope = _EVENT_SCOPE.get()
        (scope.background if scope is not None else self._background).extend(futures)

    def forget_loaded(self) -> None:
        """Drop cached loads after a commit so later fields read what was written."""
        if self._loaders is not None:
            self._loaders.close()
        self._loaders = None

    def authenticated(self, token: str, actor: Actor | None) -> None:
        """Record who the token stands for (checked by the caller)."""
        self.actor = actor
        self._token = token if actor is not None else None
        if actor is not None:
            note_actor(actor.organisation_id, actor.person_id)

    async def authenticate(self, authorization: str | None) -> None:
        if authorization and authorization.lower().startswith(BEARER):
            token = authorization[len(BEARER):].strip()
            if token:
                async with self._lock:
                    self.authenticated(token, await authenticate(self.session, token))
                    # End the read transaction so a mutation starts a fresh one.
                    await self.session.rollback()

    async def read_replica(self, echoed: str | None, *, autocommit: bool = False) -> None:
        """Answer this query from the replica when its routing allows (``echoed``: the
        position the client sent back); decided once per request, before any field
        reads. Authentication has read the primary already: a revoked token is
        refused at once, whatever the replica's lag."""
        routing = self.routing
        if routing is None or self.actor is None or self._routed:
            return
        self._routed = True
        async with self._lock:
            session = await routing.session_for(self.actor.person_id, echoed,
                                                autocommit=autocommit)
            if session is None:
                return
            if self._session is not None:
                await self._session.close()
            self.forget_loaded()
            self._session = session

    async def note_written(self) -> None:
        """After a mutation's commit: remember where the primary is for the writer (a
        statement only when a replica is configured)."""
        if self.routing is None or self.actor is None:
            return
        async with self._lock:
            self.written = await self.routing.wrote(self.session, self.actor.person_id)
        request = self.request
        if request is not None and request.scope.get("type") == "http":
            self.response.headers[LSN_HEADER] = self.written  # not on a WebSocket

    @asynccontextmanager
    async def event_scope(self) -> AsyncIterator[Actor | None]:
        """A fresh session and loaders for one event, with the token checked again: a
        revoked token or a changed role applies from the next event on. Yields the
        actor as it is now, or None when the token no longer authenticates."""
        session = self.session_factory()
        lock = asyncio.Lock()
        try:
            actor = await self.actor_for_event(session)
            self.actor = actor
            scope = EventScope(session, Loaders(session, actor.organisation_id, lock)
                               if actor else Loaders(session, -1, lock), lock)
            reset = _EVENT_SCOPE.set(scope)
            try:
                yield actor
            finally:
                with suppress(ValueError):  # closed from another context: nothing to reset
                    _EVENT_SCOPE.reset(reset)
                await settle(scope.background)
                scope.loaders.close()
        finally:
            await session.close()

    async def actor_for_event(self, session: Session) -> Actor | None:
        """Who reads the next event: the token's actor as it is now."""
        return await authenticate(session, self._token) if self._token else None

    @property
    def token(self) -> str | None:
        """The bearer token this context authenticated with."""
        return self._token

    async def close(self) -> None:
        """Close the request's session once no field uses it: after the fields still
        resolving in the background, and never during a statement."""
        await settle(self._background)
        async with self._lock:
            self.forget_loaded()
            if self._session is not None:
                await self._session.close()
                self._session = None
