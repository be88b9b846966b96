"""The Starlette application: GraphQL (and GraphiQL) at /graphql; /healthz, /readyz (and
its older name /health) and /metrics for operators."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from spm_api.db.engine import create_session_factory, engine_from_settings
from spm_api.db.replica import MemoryPositions, ReadRouting, RedisPositions
from spm_api.domain.sourcing import outbox
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.documents import document_checks
from spm_api.graphql.core.fanout import FanOut
from spm_api.graphql.core.legacy_ws import LegacyWSHandler
from spm_api.graphql.core.persisted import PersistedOperations
from spm_api.graphql.core.text_input import nul_refusal
from spm_api.graphql.core.websocket import TransportWSHandler, authenticate_connection
from spm_api.graphql.planned import PlannedReads
from spm_api.graphql.planned.events import EventPlans
from spm_api.graphql.schema import build_schema
from spm_api.observability import logs, metrics, sql, tracing
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings, get_settings
from spm_api.web import graphiql, protection, rate_limits, shutdown
from spm_api.web.observe import RequestObserver
from spm_api.web.operations import Readiness, healthz, metrics_endpoint
from spm_api.web.planned_http import HANDED_CONTEXT, PlannedHTTP


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI app with our context: a session, the token's actor and the
    event bus; subscriptions over graphql-transport-ws (and graphql-ws if enabled)."""

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], plugins: PluginHost,
                 bus: EventBus, settings: Settings, traced: bool = False,
                 routing: ReadRouting | None = None) -> None:
        protocols = [GRAPHQL_TRANSPORT_WS_PROTOCOL]
        if settings.graphql_ws_legacy:
            protocols.append(GRAPHQL_WS_PROTOCOL)
        schema = build_schema(settings)
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            subscription_protocols=protocols,
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
            keep_alive=True,
            keep_alive_interval=settings.ws_keep_alive_seconds,
            connection_init_wait_timeout=timedelta(seconds=10),
        )
        self.session_factory = session_factory
        self.plugins = plugins
        self.bus = bus
        self.routing = routing
        #: The planned lane reads outside a transaction, except through PgBouncer: there
        #: a statement prepared outside one may be run on another server connection.
        self.autocommit_reads = not settings.database_pgbouncer
        self.planned = PlannedReads(
            schema, document_checks(settings),
            settings.max_page_size, settings.document_cache_size, settings.planned_reads,
            traced)
        self.event_plans = (None if settings.planned_reads == "off" else EventPlans(
            schema._schema, settings.max_page_size, settings.planned_reads))
        self.persisted = PersistedOperations.from_settings(settings)
        self.demo_mode = settings.demo_mode
        self.fanout = FanOut(self.schema, settings.ws_max_connections,
                             settings.ws_max_subscriptions_per_organisation)
        self.ws_send_buffer_messages = settings.ws_send_buffer_messages
        self._page: str | None = None
        self._page_lock = asyncio.Lock()

    async def execute_single(self, request: Any, request_adapter: Any, sub_response: Any,
                             context: Context, root_value: Any,
                             request_data: GraphQLRequestData) -> Any:
        """Persisted operations resolved and NUL characters refused before the executor
        (the planned read path answered in front of the view, ``web/planned_http.py``)."""
        resolved = self.persisted.resolve(request_data)  # hashes and the allow-list
        refusal = (resolved if isinstance(resolved, GraphQLError)
                   else nul_refusal(resolved.query, resolved.variables))
        if refusal is not None:
            await context.close()
            return ExecutionResult(data=None, errors=[refusal])
        assert not isinstance(resolved, GraphQLError)
        return await super().execute_single(request, request_adapter, sub_response,
                                            context, root_value, resolved)

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from this origin; in demo mode with the demo portfolio manager's
        token, issued once per process (the previous process's is revoked)."""
        async with self._page_lock:
            if self._page is None:
                page = graphiql.GraphiQLPage()
                if self.demo_mode:
                    from spm_api.demo import console_token

                    async with self.session_factory() as session, session.begin():
                        page = graphiql.GraphiQLPage.for_demo(await console_token(session))
                self._page = page.render()
        return HTMLResponse(self._page)

    async def get_context(self, request: Any, response: Any) -> Context:
        handed: Context | None = request.scope.get(HANDED_CONTEXT)
        if handed is not None:  # authenticated by the planned lane, in its transaction
            handed.request, handed.response = request, response
            return handed
        context = Context(self.session_factory, self.plugins, self.bus, request=request,
                          response=response, event_plans=self.event_plans,
                          routing=self.routing)
        # A WebSocket may also authenticate in connection_init (browsers cannot set
        # headers on one).
        await context.authenticate(request.headers.get("authorization"))
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """The legacy graphql-ws protocol's authentication (graphql-transport-ws
        connections were authenticated by ``TransportWSHandler`` already)."""
        if not await authenticate_connection(context, context.connection_params):
            raise ConnectionRejectionError({"message": "a valid API token is required"})
        return UNSET  # type: ignore[no-any-return]


def create_app(settings: Settings | None = None, engine: AsyncEngine | None = None,
               plugins: PluginHost | None = None, bus: EventBus | None = None,
               tracer_provider: Any = None) -> Starlette:
    """The application; its plugins are loaded once, here, and fail the start loudly.
    Traces go to ``tracer_provider`` when given (tests), else where the settings say;
    with neither, no tracing hook is installed."""
    settings = settings or get_settings()
    plugins = plugins or PluginHost.from_settings(settings)
    own_engine = engine is None
    engine = engine or engine_from_settings(settings)
    routing = read_routing(settings)
    if settings.metrics:
        sql.instrument(engine)
        if routing is not None:
            sql.instrument(routing.replica)
    traces = (tracing.from_provider(tracer_provider) if tracer_provider is not None
              else tracing.from_settings(settings))
    if traces is not None:
        tracing.instrument(engine)
        if routing is not None:
            tracing.instrument(routing.replica)
    logs.install(settings.log_format)
    session_factory = create_session_factory(engine)
    own_bus = bus is None
    bus = bus or EventBus(settings.event_bus_url(), settings.redis_channel_prefix)
    graphql = GraphQLApp(session_factory, plugins, bus, settings, traced=traces is not None,
                         routing=routing)
    counters = rate_limits.make_counters(settings) if settings.rate_limits else None
    rate_limit = None if counters is None else rate_limits.middleware(
        settings, counters, session_factory, graphql.planned.graphql_schema)

    stopping = shutdown.ShutdownState()
    readiness = Readiness(engine, settings.database_url, bus, plugins, stopping,
                          settings.ready_requires_event_bus, routing)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if own_bus:
            await bus.connect()  # fail the start, not the first event, when it is down
        shutdown.install(stopping, settings.shutdown_drain_seconds)
        stop = asyncio.Event()
        worker = (asyncio.create_task(outbox.run_forever(session_factory, plugins, settings,
                                                         stop))
                  if settings.outbox_in_server else None)
        yield
        stopping.draining = True
        stop.set()
        if worker is not None:
            # The round in progress may finish; past the bound it is cancelled and
            # releases the claims it has not recorded.
            done, _ = await asyncio.wait({worker}, timeout=settings.shutdown_timeout_seconds)
            if not done:
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)
        await plugins.drain()
        metrics.process_exiting()
        plugins.close()
        if own_bus:
            await bus.disconnect()
        if counters is not None:
            await counters.close()
        if own_engine:
            await engine.dispose()
        if traces is not None and tracer_provider is None:
            traces.shutdown()  # the spans still batched go out
        if routing is not None:
            await close_routing(routing)

    app = Starlette(
        routes=[
            Route("/graphql", PlannedHTTP(graphql), methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readiness.readyz, methods=["GET"]),
            Route("/health", readiness.readyz, methods=["GET"]),  # the older name
            *([Route("/metrics", metrics_endpoint(session_factory), methods=["GET"])]
              if settings.metrics else []),
            Mount(graphiql.STATIC_PATH, app=graphiql.static_files(), name="graphiql"),
        ],
        lifespan=lifespan,
        middleware=[Middleware(RequestObserver, metered=settings.metrics,
                               logged=settings.log_format == "json"),
                    *([Middleware(tracing.TraceRequests, tracer=traces.tracer)]
                      if traces is not None else []),
                    *protection.middleware(settings, rate_limit)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.plugins = plugins
    app.state.bus = bus
    app.state.routing = routing
    app.state.shutdown = stopping
    app.state.tracing = traces
    return app


def read_routing(settings: Settings) -> ReadRouting | None:
    """The replica's engine and where written positions are kept, when a replica is set."""
    if not settings.database_replica_url:
        return None
    replica = engine_from_settings(settings, settings.database_replica_url,
                                   connect_timeout=settings.database_replica_connect_timeout)
    written = (RedisPositions(settings.redis_url, settings.redis_channel_prefix)
               if settings.read_your_writes == "redis" else MemoryPositions())
    return ReadRouting(replica, written, settings.database_replica_retry_seconds,
                       settings.database_replica_max_lag_seconds)


async def close_routing(routing: ReadRouting) -> None:
    await routing.close()
    await routing.replica.dispose()
