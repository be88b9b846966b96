"""The Starlette application: GraphQL (and GraphiQL) at /graphql, health at /health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from spm_api.db.engine import create_engine, create_session_factory
from spm_api.graphql.context import Context
from spm_api.graphql.schema import build_schema
from spm_api.plugins.host import PluginHost
from spm_api.settings import Settings, get_settings


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI app with our context: a session and the token's actor."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], plugins: PluginHost,
                 settings: Settings) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql else None,
        )
        self.session_factory = session_factory
        self.plugins = plugins

    async def get_context(self, request: Any, response: Any) -> Context:
        context = Context(self.session_factory, self.plugins, request=request,
                          response=response)
        await context.authenticate(request.headers.get("authorization"))
        return context


def create_app(settings: Settings | None = None, engine: AsyncEngine | None = None,
               plugins: PluginHost | None = None) -> Starlette:
    """The application; its plugins are loaded once, here, and fail the start loudly."""
    settings = settings or get_settings()
    plugins = plugins or PluginHost.load(settings.allowed_plugins(), settings.plugin_timeout)
    own_engine = engine is None
    engine = engine or create_engine(settings.database_url, echo=settings.echo_sql)
    session_factory = create_session_factory(engine)
    graphql = GraphQLApp(session_factory, plugins, settings)

    async def health(_request: Request) -> Response:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:  # report any database failure as unhealthy
            return JSONResponse({"status": "error", "database": str(error)}, status_code=503)
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await plugins.drain()
        plugins.close()
        if own_engine:
            await engine.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.plugins = plugins
    return app
