"""Runtime settings, read from ``SPM_``-prefixed environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything that differs between a laptop, CI and production."""

    model_config = SettingsConfigDict(env_prefix="SPM_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./spm.db"
    #: Show unexpected errors unmasked (never in production).
    debug: bool = False
    #: Serve the GraphiQL IDE on GET /graphql.
    graphiql: bool = True
    #: GraphiQL opens with an example query and a token of the demo organisation's
    #: portfolio manager (``spm-api serve --demo``, as ``make run`` does). Never in
    #: production: anyone who can open the page acts as that person.
    demo_mode: bool = False
    #: Upper bound on ``first``/``last`` of every connection.
    max_page_size: int = 100
    #: Deepest selection a query may nest.
    max_query_depth: int = 12
    #: Deepest an introspection query (below ``__schema`` or ``__type``) may nest; the
    #: standard one GraphiQL and code generators send is 14 deep.
    max_introspection_depth: int = 15
    #: Who may introspect the schema: ``on`` (anyone), ``authenticated`` (requests with a
    #: valid token) or ``off`` (nobody; GraphiQL then shows no documentation).
    introspection: Literal["on", "authenticated", "off"] = "authenticated"
    #: Largest cost an operation may have (every field 1, times the items a list above
    #: it may return).
    max_query_cost: int = 50_000
    #: Items a plain (unpaginated) list is assumed to hold when costing an operation.
    cost_list_size: int = 10
    #: Aliases one document may use.
    max_aliases: int = 30
    #: Tokens one document may hold.
    max_tokens: int = 5000
    #: Largest HTTP request body in bytes; a larger one is refused with 413 before it is
    #: read whole.
    max_body_bytes: int = 1_048_576
    #: Largest WebSocket message in bytes; a larger one closes the connection with 1009.
    max_ws_message_bytes: int = 262_144
    #: Origins (comma-separated, e.g. ``https://app.example.com``) whose pages may call
    #: the API from a browser; empty: none (no CORS headers are sent).
    cors_origins: str = ""
    #: The Content-Security-Policy header of every response; the default lets GraphiQL
    #: run from this origin and nothing else.
    content_security_policy: str = (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    #: Rate limits on requests to /graphql and on their query cost, per token (per client
    #: address without a valid one) and per organisation, in fixed one-minute windows;
    #: a request past a limit is refused with 429 before any GraphQL work. Off by
    #: default: behind a proxy every anonymous client has the proxy's address.
    rate_limits: bool = False
    #: Where the counters live: ``memory`` (one process) or ``redis`` (at ``redis_url``,
    #: shared by every process; keys start with ``redis_channel_prefix``).
    rate_limit_backend: Literal["memory", "redis"] = "memory"
    #: Requests one token (or one client address) may make per minute.
    rate_limit_requests_per_minute: int = 600
    #: Query cost one token (or one client address) may spend per minute.
    rate_limit_cost_per_minute: int = 10_000_000
    #: Requests all tokens of one organisation may make per minute.
    rate_limit_organisation_requests_per_minute: int = 3000
    #: Query cost all tokens of one organisation may spend per minute.
    rate_limit_organisation_cost_per_minute: int = 50_000_000
    #: A pooled PostgreSQL connection idle this long is pinged before use (and replaced
    #: when the server dropped it); 0 pings before every use (three round trips).
    database_ping_idle_seconds: float = 1.0
    #: Connections each process keeps open to PostgreSQL (and to the replica), how many
    #: more it may open under load, and seconds a request waits for one when all are in
    #: use before it fails (``spm_db_pool_connections_waiting`` shows the queue).
    database_pool_size: int = Field(default=5, ge=1)
    database_pool_max_overflow: int = Field(default=10, ge=0)
    database_pool_timeout: float = Field(default=30.0, gt=0)
    #: A PostgreSQL streaming replica of ``database_url`` that GraphQL queries over HTTP
    #: read from (mutations, what they return, subscriptions and authentication read the
    #: primary); a person who just wrote reads the replica only once it has replayed
    #: the write (``docs/operations.md``). Unset: everything reads the primary.
    database_replica_url: str | None = None
    #: Seconds opening a connection to the replica may take before the read goes to the
    #: primary.
    database_replica_connect_timeout: float = 2.0
    #: After the replica could not be reached, seconds every read goes to the primary
    #: before the replica is tried again.
    database_replica_retry_seconds: float = 5.0
    #: A replica further behind the primary than this many seconds (when last asked, at
    #: most once a second per process) is not read: queries go to the primary until it
    #: catches up. 0: no limit.
    database_replica_max_lag_seconds: float = Field(default=30.0, ge=0)
    #: Where the position each person last wrote at is kept for other processes:
    #: ``memory`` (this process only; other processes rely on the ``SPM-LSN`` header
    #: clients echo) or ``redis`` (at ``redis_url``, shared by every process).
    read_your_writes: Literal["memory", "redis"] = "memory"
    #: ``database_url`` (and ``database_replica_url``) lead to PgBouncer in transaction
    #: pooling mode: no prepared statement outlives its transaction. LISTEN/NOTIFY does
    #: not pass such a PgBouncer: ``event_bus`` must then be ``redis`` or a direct URL.
    database_pgbouncer: bool = False
    #: Distinct query documents whose parse and validation are kept for reuse.
    document_cache_size: int = 256
    #: Allocations (net of frees) between two young-generation collections of the
    #: server process; what it built to start is frozen out of every collection first.
    #: 0 leaves Python's defaults (700) and freezes nothing.
    gc_threshold: int = 50_000
    #: A JSON file of the operations clients may send by hash (the sha256 hex of the
    #: document): ``{hash: document}`` or Apollo's persisted query manifest, as the front
    #: end's build writes it. Read at start; a bad file fails the start.
    persisted_operations_file: Path | None = None
    #: Run only the operations of ``persisted_operations_file`` (by hash or by their
    #: full text); any other document is refused with PERSISTED_QUERY_REQUIRED.
    persisted_only: bool = False
    #: Documents registered by Automatic Persisted Queries kept per process (the least
    #: recently used goes first); 0 keeps none.
    apq_cache_size: int = 1000
    #: The planned read path for queries: ``on`` (queries it can plan skip the
    #: executor), ``off``, or ``check`` (both paths run and must agree: tests).
    planned_reads: Literal["on", "off", "check"] = "on"
    #: Where the Alembic migration scripts live.
    alembic_dir: Path = REPOSITORY_ROOT / "alembic"
    #: Log SQL statements.
    echo_sql: bool = False
    #: Comma-separated entry-point names of the third-party plugins to load; unset loads
    #: every installed one, an empty value loads none. Built-in plugins always load.
    plugins: str | None = None
    #: Seconds a plugin call may take before the operation fails with PLUGIN_ERROR.
    plugin_timeout: float = 5.0
    #: Log every call into a plugin (plugin, hook, duration, outcome) at INFO on the
    #: ``spm_api.plugins`` logger.
    trace_plugins: bool = False

    #: Where stage changes, votes and statements are published for subscriptions:
    #: ``memory`` (one process; the default with SQLite), ``postgres`` (LISTEN/NOTIFY on
    #: the database; the default with PostgreSQL), ``redis`` (pub/sub at ``redis_url``),
    #: or a ``memory://``, ``postgresql://`` or ``redis://`` URL.
    event_bus: str | None = None
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: Put before every Redis channel name and rate limit key, so deployments (or test
    #: runs) sharing one Redis server stay apart: pub/sub channels ignore the database
    #: number.
    redis_channel_prefix: str = ""
    #: Also accept the legacy ``graphql-ws`` subscription protocol.
    graphql_ws_legacy: bool = False
    #: Operations one WebSocket connection may run at once.
    max_subscriptions_per_connection: int = 20
    #: Seconds between the server's keep-alive pings on a subscription connection.
    ws_keep_alive_seconds: float = 15.0
    #: Negotiate permessage-deflate on WebSockets: smaller frames for ≈ 40 KiB more memory
    #: per connection (a compression context at each end); event payloads are small.
    ws_per_message_deflate: bool = False
    #: Frames queued for one WebSocket connection before it is closed with 4413 (the
    #: client resumes with ``after``): a slow socket never holds its group back.
    ws_send_buffer_messages: int = 256
    #: WebSocket connections one process accepts; one more is closed with 4503.
    ws_max_connections: int = 20000
    #: Subscriptions one process runs for one organisation; one more closes its
    #: connection with 4504.
    ws_max_subscriptions_per_organisation: int = 10000

    #: Delivery attempts of an engagement request before it is FAILED.
    outbox_max_attempts: int = 5
    #: First retry delay in seconds; each further retry waits twice as long …
    outbox_backoff_seconds: float = 2.0
    #: … up to this many seconds.
    outbox_backoff_max_seconds: float = 300.0
    #: How often the delivery worker looks for due requests.
    outbox_poll_seconds: float = 1.0
    #: Run the delivery worker inside ``spm-api serve`` (off when it runs on its own,
    #: as ``spm-api outbox run``).
    outbox_in_server: bool = True

    #: ``text`` (readable, the default) or ``json``: every log line one JSON object, and
    #: one line per GraphQL request on ``spm_api.requests`` (its id, organisation, person,
    #: operation, duration, statements, outcome) in place of uvicorn's access log.
    log_format: Literal["text", "json"] = "text"
    #: Count requests, SQL per request and the database pool for ``/metrics`` (and serve
    #: it); off, neither the counting nor the endpoint exist.
    metrics: bool = True
    #: After SIGTERM, seconds ``spm-api serve`` keeps serving with ``/readyz`` answering
    #: 503, so a load balancer stops sending before the listening socket closes.
    shutdown_drain_seconds: float = 0.0
    #: Then, seconds requests in flight (and the outbox worker's round) may take to
    #: finish before they are cancelled.
    shutdown_timeout_seconds: int = 30
    #: ``/readyz`` fails while the event bus is down. Off, a lost bus (Redis) only shows
    #: in the check: queries and mutations go on, subscribers resume from the history.
    ready_requires_event_bus: bool = True
    #: Send OpenTelemetry traces (a span per request, statement, plugin call, loader
    #: batch and plan step) over OTLP to this collector URL; unset, the standard
    #: ``OTEL_EXPORTER_OTLP_ENDPOINT`` is used, and without either nothing is traced (and
    #: nothing installed). Needs the ``otel`` extra (``pip install 'spm-api[otel]'``).
    otel_exporter_otlp_endpoint: str | None = None
    #: ``http/protobuf`` (port 4318) or ``grpc`` (port 4317); unset, the standard
    #: ``OTEL_EXPORTER_OTLP_PROTOCOL`` or ``http/protobuf``.
    otel_exporter_otlp_protocol: Literal["http/protobuf", "grpc"] | None = None
    #: The ``service.name`` the spans carry (``OTEL_SERVICE_NAME`` wins when set).
    otel_service_name: str = "spm-api"

    def event_bus_url(self) -> str:
        """The event bus as a URL broadcaster understands."""
        choice = self.event_bus or ("memory" if self.database_url.startswith("sqlite")
                                    else "postgres")
        if choice == "memory":
            return "memory://"
        if choice == "redis":
            return self.redis_url
        if choice == "postgres":
            if self.database_pgbouncer:
                raise ValueError(
                    "LISTEN/NOTIFY does not pass a PgBouncer in transaction mode "
                    "(SPM_DATABASE_PGBOUNCER): set SPM_EVENT_BUS to redis or to the "
                    "primary's own postgresql:// URL")
            return plain_postgres_url(self.database_url)
        if "://" in choice:
            return plain_postgres_url(choice) if choice.startswith("postgres") else choice
        raise ValueError(f"SPM_EVENT_BUS must be memory, postgres, redis or a URL, "
                         f"not {choice!r}")

    def allowed_cors_origins(self) -> list[str]:
        """The origins ``SPM_CORS_ORIGINS`` lists."""
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    def allowed_plugins(self) -> frozenset[str] | None:
        """The names ``SPM_PLUGINS`` allows, or None when it does not restrict."""
        if self.plugins is None:
            return None
        return frozenset(name.strip() for name in self.plugins.split(",") if name.strip())


def plain_postgres_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL (``postgresql+asyncpg://``) as libpq spells it."""
    if not url.startswith("postgres"):
        raise ValueError(f"the postgres event bus needs a PostgreSQL database, not {url!r}")
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if "+" in scheme else url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, read once."""
    return Settings()
