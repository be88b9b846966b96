"""OpenTelemetry traces: a span per GraphQL request over HTTP, with child spans per
DataLoader batch (the executor), per plan step (the planned read path), per SQL
statement and per plugin call, exported over OTLP.

Off unless an OTLP endpoint is configured (``SPM_OTEL_EXPORTER_OTLP_ENDPOINT`` or the
standard ``OTEL_EXPORTER_OTLP_ENDPOINT``), and off costs nothing: the request middleware
and the SQL listeners are only installed when on, and the few places that open a span
further in ask ``active()`` (one context-variable read) for the tracer the request
middleware put there. OpenTelemetry itself is the optional ``otel`` extra, imported only
when tracing is on.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spm_api.observability.requests import CURRENT

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider
    from sqlalchemy.ext.asyncio import AsyncEngine

    from spm_api.settings import Settings

#: The tracer of the request in progress; None outside a traced request.
ACTIVE: ContextVar[Tracer | None] = ContextVar("spm_tracer", default=None)

INSTRUMENTATION = "spm_api"
#: Only these requests get a span; probes and scrapes would drown them.
TRACED_PATHS = frozenset({"/graphql"})
#: Where the span of a statement waits for its end: on SQLAlchemy's execution context,
#: or, for the planned lane's reads on the driver's own connection (no context), on the
#: connection, whose statements take turns (one session, one lock).
_SPAN = "spm_span"
#: Statement text kept on a span; longer text is cut (the full one is in the code).
MAX_STATEMENT_CHARS = 2000
#: ``SpanKind.CLIENT``, imported when the listeners are installed (OpenTelemetry is
#: optional: nothing of it is imported while tracing is off).
_CLIENT: list[Any] = []


def active() -> Tracer | None:
    return ACTIVE.get()


def endpoint(settings: Settings) -> str | None:
    """The collector to export to, or None: tracing is off."""
    return (settings.otel_exporter_otlp_endpoint
            or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None)


@dataclass(slots=True)
class Tracing:
    """The tracer an application's hooks use, and the provider flushed at shutdown."""

    tracer: Tracer
    provider: TracerProvider

    def shutdown(self) -> None:
        shutdown = getattr(self.provider, "shutdown", None)
        if shutdown is not None:
            shutdown()


def from_provider(provider: TracerProvider) -> Tracing:
    return Tracing(provider.get_tracer(INSTRUMENTATION), provider)


def from_settings(settings: Settings) -> Tracing | None:
    """An OTLP exporter behind a batching processor when an endpoint is configured."""
    url = endpoint(settings)
    if url is None:
        return None
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as missing:
        raise RuntimeError(
            "an OTLP endpoint is configured, but OpenTelemetry is not installed: "
            "pip install 'spm-api[otel]'") from missing
    protocol = (settings.otel_exporter_otlp_protocol
                or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf")
    exporter: Any
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        exporter = GrpcExporter(endpoint=url)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpExporter,
        )

        # The standard variable names the collector; traces go to its /v1/traces.
        exporter = HttpExporter(endpoint=url if url.rstrip("/").endswith("/v1/traces")
                                else url.rstrip("/") + "/v1/traces")
    name = os.environ.get("OTEL_SERVICE_NAME") or settings.otel_service_name
    provider = SdkTracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return from_provider(provider)


def _error(span: Span, description: str, error: BaseException | None = None) -> None:
    from opentelemetry.trace import Status, StatusCode

    if error is not None:
        span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, description))


# --- the request ----------------------------------------------------------------------


class TraceRequests:
    """ASGI middleware, inside ``RequestObserver`` (whose record it reads): one span per
    GraphQL HTTP request, named after its operation once known, with who asked and how
    it ended; an error answer or a failure marks its status."""

    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        from opentelemetry.trace import SpanKind

        self.app = app
        self.tracer = tracer
        self.kind = SpanKind.SERVER

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in TRACED_PATHS:
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        method = scope["method"]
        with self.tracer.start_as_current_span(
                f"{method} {scope['path']}", kind=self.kind,
                record_exception=False, set_status_on_exception=False,
                attributes={"http.request.method": method,
                            "url.path": scope["path"]}) as span:
            reset = ACTIVE.set(self.tracer)
            try:
                await self.app(scope, receive, send_status)
            except BaseException as error:
                _error(span, f"raised {type(error).__name__}", error)
                raise
            finally:
                ACTIVE.reset(reset)
                self._finish(span, status)

    @staticmethod
    def _finish(span: Span, status: int) -> None:
        span.set_attribute("http.response.status_code", status)
        stats = CURRENT.get()
        if stats is None:
            return
        span.set_attribute("spm.request_id", stats.request_id)
        outcome = stats.outcome or ("ok" if status < 400 else
                                    "refused" if status < 500 else "failed")
        span.set_attribute("spm.outcome", outcome)
        span.set_attribute("spm.sql.statements", stats.statements)
        if stats.operation_type is not None:
            name = stats.operation or "anonymous"
            span.update_name(f"{stats.operation_type} {name}")
            span.set_attribute("graphql.operation.type", stats.operation_type)
            span.set_attribute("graphql.operation.name", name)
        if stats.organisation_id is not None:
            span.set_attribute("spm.organisation.id", stats.organisation_id)
        if stats.person_id is not None:
            span.set_attribute("spm.person.id", stats.person_id)
        if outcome in ("error", "failed") or status >= 500:
            _error(span, "the answer holds GraphQL errors" if outcome == "error"
                   else f"HTTP {status}")


# --- spans further in -----------------------------------------------------------------


@contextmanager
def span(tracer: Tracer, name: str, attributes: dict[str, Any] | None = None,
         expected: tuple[type[BaseException], ...] = ()) -> Iterator[Span]:
    """A child span of the current one; an exception leaving it marks its status,
    unless it is one of ``expected`` (a hand-over, not a failure: noted as such)."""
    with tracer.start_as_current_span(
            name, attributes=attributes, record_exception=False,
            set_status_on_exception=False) as opened:
        try:
            yield opened
        except expected as handed:
            opened.set_attribute("spm.handed_over", f"{type(handed).__name__}: {handed}")
            raise
        except BaseException as error:
            _error(opened, f"raised {type(error).__name__}", error)
            raise


def traced_batch(tracer: Tracer, name: str,
                 load: Callable[[list[Any]], Awaitable[Any]]
                 ) -> Callable[[list[Any]], Awaitable[Any]]:
    """A DataLoader's batch function with a span per batch (the executor's unit of
    reading: one statement per relation level)."""

    async def batch(keys: list[Any]) -> Any:
        with span(tracer, f"load {name}", {"spm.loader": name, "spm.keys": len(keys)}):
            return await load(keys)

    return batch


def end_call(opened: Span, outcome: str, ok: str, failure: BaseException | None) -> None:
    """End a plugin call's span with how it ended (``plugins/trace.py``)."""
    opened.set_attribute("spm.outcome", outcome)
    if outcome != ok:
        _error(opened, outcome, failure)
    opened.end()


# --- SQL ------------------------------------------------------------------------------


def _statement_started(connection: Any, _cursor: Any, statement: str, _parameters: Any,
                       context: Any, _many: bool) -> None:
    tracer = ACTIVE.get()
    if tracer is None:
        return
    words = statement.lstrip().split(None, 1)
    opened = tracer.start_span(
        words[0].upper() if words else "SQL", kind=_CLIENT[0],
        attributes={"db.system.name": connection.dialect.name,
                    "db.query.text": statement[:MAX_STATEMENT_CHARS]})
    if context is not None:
        setattr(context, _SPAN, opened)
    else:
        connection.info[_SPAN] = opened


def _statement_finished(connection: Any, cursor: Any, _statement: str, _parameters: Any,
                        context: Any, _many: bool) -> None:
    opened = (getattr(context, _SPAN, None) if context is not None
              else connection.info.pop(_SPAN, None))
    if opened is None:
        return
    if context is not None:
        setattr(context, _SPAN, None)
    # A driver read has no cursor: a failed one announces its end with the exception in
    # its place (``domain/plain.py``).
    if isinstance(cursor, BaseException):
        _error(opened, f"raised {type(cursor).__name__}", cursor)
    opened.end()


def _statement_failed(exception_context: Any) -> None:
    context = exception_context.execution_context
    opened = getattr(context, _SPAN, None) if context is not None else None
    if opened is None:
        return
    setattr(context, _SPAN, None)
    error = exception_context.original_exception
    _error(opened, f"raised {type(error).__name__}", error)
    opened.end()


def instrument(engine: AsyncEngine) -> None:
    """A span per statement of ``engine`` run inside a traced request (once, however
    many apps share the engine)."""
    from opentelemetry.trace import SpanKind
    from sqlalchemy import event

    _CLIENT[:] = [SpanKind.CLIENT]
    sync = engine.sync_engine
    if event.contains(sync, "before_cursor_execute", _statement_started):
        return
    event.listen(sync, "before_cursor_execute", _statement_started)
    event.listen(sync, "after_cursor_execute", _statement_finished)
    event.listen(sync, "handle_error", _statement_failed)


def instrumented(engine: AsyncEngine) -> bool:
    """Whether ``instrument`` listens to ``engine`` (tests: nothing is installed when
    tracing is off)."""
    from sqlalchemy import event

    sync = engine.sync_engine
    return any(event.contains(sync, name, listener) for name, listener in (
        ("before_cursor_execute", _statement_started),
        ("after_cursor_execute", _statement_finished),
        ("handle_error", _statement_failed)))


def uninstrument(engine: AsyncEngine) -> None:
    """Stop listening to ``engine`` (an engine shared by apps outliving this one)."""
    from sqlalchemy import event

    sync = engine.sync_engine
    for name, listener in (("before_cursor_execute", _statement_started),
                           ("after_cursor_execute", _statement_finished),
                           ("handle_error", _statement_failed)):
        if event.contains(sync, name, listener):
            event.remove(sync, name, listener)
