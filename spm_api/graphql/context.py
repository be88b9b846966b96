"""The per-request context: one session, the authenticated actor, the loaders."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spm_api.domain.actor import Actor
from spm_api.domain.tokens import authenticate
from spm_api.graphql.loaders import Loaders
from spm_api.plugins.host import PluginHost

BEARER = "bearer "


@dataclass
class Context:
    session_factory: async_sessionmaker[AsyncSession]
    plugins: PluginHost
    request: Any = None
    response: Any = None
    actor: Actor | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _session: AsyncSession | None = None
    _loaders: Loaders | None = None

    @property
    def session(self) -> AsyncSession:
        """The request's single unit-of-work session, opened on first use."""
        if self._session is None:
            self._session = self.session_factory()
        return self._session

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            assert self.actor is not None, "loaders exist only for authenticated requests"
            self._loaders = Loaders(self.session, self.actor.organisation_id, self.lock)
        return self._loaders

    def forget_loaded(self) -> None:
        """Drop cached loads after a commit so later fields read what was written."""
        self._loaders = None

    async def authenticate(self, authorization: str | None) -> None:
        if authorization and authorization.lower().startswith(BEARER):
            token = authorization[len(BEARER):].strip()
            if token:
                async with self.lock:
                    self.actor = await authenticate(self.session, token)
                    # End the read transaction so a mutation starts a fresh one.
                    await self.session.rollback()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
