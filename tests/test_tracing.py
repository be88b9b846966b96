"""OpenTelemetry traces, read back from the SDK's in-memory exporter: a GraphQL request is
one span named after its operation, with who asked and how it ended; below it the
executor's loader batches or the planned path's steps, each SQL statement and each
plugin call; an error marks the span's status. Off (the default), nothing is installed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.applications import Starlette
from starlette.routing import Route

from spm_api.app import create_app
from spm_api.domain import plain
from spm_api.graphql.planned.run import PlanRun
from spm_api.graphql.planned.traced import TracedPlanRun
from spm_api.observability import tracing
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from spm_api.web.planned_http import PlannedHTTP
from tests.support import GraphQLClient, Org, Portfolio, serve_api

PAGE = """query Page { services(first: 5) { totalCount edges { node {
    name stageChanges { toStage actor { name } } } } } }"""
APPROVAL = "query Approval($id: ID!) { node(id: $id) { ... on Service { approval { status } } } }"
BROKEN = "query Broken { services(first: 5) { edges { node { noSuchField } } } }"


@dataclass
class Traced:
    client: GraphQLClient
    exporter: InMemorySpanExporter

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def request(self) -> ReadableSpan:
        """The one request span of what was exported since the last ``clear``."""
        [root] = [span for span in self.spans() if span.parent is None]
        return root

    def below(self, parent: ReadableSpan) -> list[ReadableSpan]:
        """Every span under ``parent``, however deep."""
        assert parent.context is not None
        children = [span for span in self.spans()
                    if span.parent is not None and span.parent.span_id == parent.context.span_id]
        return [*children, *(deeper for child in children for deeper in self.below(child))]


def ancestors(span: ReadableSpan, spans: list[ReadableSpan]) -> list[str]:
    by_id = {found.context.span_id: found for found in spans if found.context is not None}
    names = []
    while span.parent is not None:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


def statements(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    return [span for span in spans if span.kind is SpanKind.CLIENT]


def _middleware_traces(app: Starlette) -> bool:
    return any(getattr(middleware, "cls", None) is tracing.TraceRequests
               for middleware in app.user_middleware)


def _planned_lane(app: Starlette) -> PlannedHTTP:
    [lane] = [route.endpoint for route in app.routes
              if isinstance(route, Route) and isinstance(route.endpoint, PlannedHTTP)]
    return lane


@pytest.fixture
def provider() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


async def _traced(db: AsyncEngine, settings: Settings, plugins: PluginHost,
                  provider: tuple[TracerProvider, InMemorySpanExporter], planned: str
                  ) -> AsyncIterator[Traced]:
    bus = EventBus("memory://")
    app = create_app(settings.model_copy(update={"planned_reads": planned}), engine=db,
                     plugins=plugins, bus=bus, tracer_provider=provider[0])
    # What "off" must not have, "on" has.
    assert _middleware_traces(app) and tracing.instrumented(db)
    assert _planned_lane(app).planned._run is TracedPlanRun
    try:
        async with serve_api(app) as client:
            yield Traced(client, provider[1])
    finally:
        await bus.disconnect()
        tracing.uninstrument(db)  # the engine is shared with the other tests


@pytest.fixture
async def executor(db: AsyncEngine, settings: Settings, plugins: PluginHost,
                   provider: tuple[TracerProvider, InMemorySpanExporter]
                   ) -> AsyncIterator[Traced]:
    async for traced in _traced(db, settings, plugins, provider, "off"):
        yield traced


@pytest.fixture
async def planned(db: AsyncEngine, settings: Settings, plugins: PluginHost,
                  provider: tuple[TracerProvider, InMemorySpanExporter]
                  ) -> AsyncIterator[Traced]:
    async for traced in _traced(db, settings, plugins, provider, "on"):
        yield traced


@pytest.fixture(params=["executor", "planned"])
async def either(db: AsyncEngine, settings: Settings, plugins: PluginHost,
                 provider: tuple[TracerProvider, InMemorySpanExporter],
                 request: pytest.FixtureRequest) -> AsyncIterator[Traced]:
    mode = "off" if request.param == "executor" else "on"
    async for traced in _traced(db, settings, plugins, provider, mode):
        yield traced


async def _two_services(traced: Traced, org: Org) -> None:
    portfolio = Portfolio(traced.client, org)
    for name in ("CRM", "Billing"):
        await portfolio.in_analysis(name)
    traced.exporter.clear()


def _check_request_span(traced: Traced, org: Org) -> ReadableSpan:
    request = traced.request()
    assert request.name == "query Page"
    assert request.kind is SpanKind.SERVER
    attributes = dict(request.attributes or {})
    assert attributes["graphql.operation.name"] == "Page"
    assert attributes["graphql.operation.type"] == "query"
    assert attributes["spm.organisation.id"] == org.id
    assert attributes["spm.person.id"] == org.person_ids[Role.VIEWER]
    assert attributes["spm.outcome"] == "ok"
    assert attributes["http.response.status_code"] == 200
    assert request.status.status_code is StatusCode.UNSET
    # One trace: every span exported belongs to the request.
    assert {span.context.trace_id for span in traced.spans() if span.context} == {
        request.context.trace_id if request.context else None}
    below = traced.below(request)
    assert len(below) == len(traced.spans()) - 1
    # A span per statement the request ran (as the request counts them), each with its text.
    sql = statements(below)
    counted = attributes["spm.sql.statements"]
    assert isinstance(counted, int) and len(sql) == counted > 0
    for span in sql:
        span_attributes = dict(span.attributes or {})
        assert span_attributes["db.system.name"] in ("sqlite", "postgresql")
        assert str(span_attributes["db.query.text"]).split()[0].upper() == span.name
        assert span.end_time is not None and span.start_time is not None
        assert span.end_time >= span.start_time
    return request


async def test_an_executor_query_is_a_request_span_over_loader_batches_and_statements(
        executor: Traced, org: Org) -> None:
    await _two_services(executor, org)
    data = await executor.client.data(PAGE, token=org.token(Role.VIEWER))
    assert data["services"]["totalCount"] == 2
    request = _check_request_span(executor, org)
    below = executor.below(request)
    [stage_changes] = [span for span in below if span.name == "load stage_changes_of_service"]
    assert dict(stage_changes.attributes or {})["spm.keys"] == 2  # one batch, both services
    [its_statement] = statements(executor.below(stage_changes))
    assert its_statement.name == "SELECT"
    # The page and its count are read outside any loader, straight under the request.
    assert any(ancestors(span, executor.spans()) == ["query Page"]
               for span in statements(below))


async def test_a_planned_query_has_a_span_per_plan_step(planned: Traced, org: Org) -> None:
    await _two_services(planned, org)
    data = await planned.client.data(PAGE, token=org.token(Role.VIEWER))
    assert data["services"]["totalCount"] == 2
    request = _check_request_span(planned, org)
    names = [span.name for span in planned.below(request)]
    assert "plan" in names and "plan root services" in names
    [children] = [span for span in planned.spans()
                  if span.name == "plan children stage_changes_of_service"]
    assert dict(children.attributes or {})["spm.keys"] == 2
    # The step's statement (on the driver's own connection) is below it, timed.
    [its_statement] = statements(planned.below(children))
    assert ancestors(its_statement, planned.spans())[:3] == [
        "plan children stage_changes_of_service", "plan root services", "plan"]
    assert not any(name.startswith("load ") for name in names)  # no executor ran


async def test_a_plugin_call_is_a_span_under_the_request(either: Traced, org: Org) -> None:
    traced = either
    service_id = await Portfolio(traced.client, org).in_approval("CRM")
    traced.exporter.clear()
    data = await traced.client.data(APPROVAL, {"id": service_id}, org.token(Role.VIEWER))
    assert data["node"]["approval"]["status"] == "PENDING"
    calls = [span for span in traced.spans() if span.name.startswith("plugin ")]
    assert calls, [span.name for span in traced.spans()]
    call = next(span for span in calls
                if dict(span.attributes or {})["spm.plugin"] == "spm_api.majority")
    attributes = dict(call.attributes or {})
    assert call.name == f"plugin spm_api.majority {attributes['spm.hook']}"
    assert attributes["spm.outcome"] == "ok"
    assert call.status.status_code is StatusCode.UNSET
    assert ancestors(call, traced.spans())[-1] == "query Approval"


async def test_an_answer_with_errors_marks_the_request_span(executor: Traced, org: Org
                                                           ) -> None:
    body = await executor.client.execute(BROKEN, token=org.token(Role.VIEWER))
    assert body["errors"]
    request = executor.request()
    assert request.name == "query Broken"
    assert dict(request.attributes or {})["spm.outcome"] == "error"
    assert request.status.status_code is StatusCode.ERROR


async def test_a_refused_request_is_traced_with_its_outcome(executor: Traced) -> None:
    response = await executor.client.http.post("/graphql", content=b"{not json",
                                               headers={"content-type": "application/json"})
    assert response.status_code == 400
    request = executor.request()
    assert dict(request.attributes or {})["spm.outcome"] == "refused"
    assert request.status.status_code is StatusCode.UNSET  # the client's mistake


async def test_a_failing_statement_marks_its_span(
        db: AsyncEngine, provider: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    """Through SQLAlchemy and on the driver's own connection (the planned lane's reads)."""
    traces = tracing.from_provider(provider[0])
    tracing.instrument(db)
    reset = tracing.ACTIVE.set(traces.tracer)
    try:
        async with AsyncSession(db) as session:
            with pytest.raises(DBAPIError):
                await session.execute(text("SELECT no_such_column FROM no_such_table"))
            await session.rollback()
            reader = await plain.reader(session)
            with pytest.raises(Exception) as raised:
                await reader.fetch("SELECT no_such_column FROM no_such_table")
            assert "no_such" in str(raised.value)
    finally:
        tracing.ACTIVE.reset(reset)
        tracing.uninstrument(db)
    spans = statements(list(provider[1].get_finished_spans()))
    failed = [span for span in spans if span.status.status_code is StatusCode.ERROR]
    assert len(failed) == 2
    for span in failed:
        assert "no_such_table" in str(dict(span.attributes or {})["db.query.text"])
        assert span.events and span.events[0].name == "exception"
    assert all(span.end_time is not None for span in spans)


async def test_off_by_default_nothing_is_installed(db: AsyncEngine, settings: Settings,
                                                   plugins: PluginHost,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   org: Org) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert tracing.endpoint(settings) is None
    assert tracing.from_settings(settings) is None
    bus = EventBus("memory://")
    app = create_app(settings, engine=db, plugins=plugins, bus=bus)
    try:
        assert app.state.tracing is None
        assert not _middleware_traces(app)
        assert not tracing.instrumented(db)
        assert _planned_lane(app).planned._run is PlanRun
        # Inside a request nothing finds a tracer: loaders, plans and plugin calls stay
        # as they are.
        seen: list[object] = []
        original = PluginHost.call

        async def call(self: PluginHost, *args: object) -> object:
            seen.append(tracing.active())
            return await original(self, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(PluginHost, "call", call)
        async with serve_api(app) as client:
            service_id = await Portfolio(client, org).in_approval("CRM")
            await client.data(APPROVAL, {"id": service_id}, org.token(Role.VIEWER))
        assert seen and set(seen) == {None}
    finally:
        await bus.disconnect()


def test_the_standard_endpoint_variable_turns_tracing_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.invalid:4318")
    settings = Settings(plugins="")
    assert tracing.endpoint(settings) == "http://collector.invalid:4318"
    traces = tracing.from_settings(settings)
    assert traces is not None
    try:
        [processor] = traces.provider._active_span_processor._span_processors  # type: ignore[attr-defined]
        assert processor.span_exporter._endpoint == "http://collector.invalid:4318/v1/traces"
        assert traces.provider.resource.attributes["service.name"] == "spm-api"  # type: ignore[attr-defined]
    finally:
        traces.shutdown()
    # The project's own setting wins over the standard one.
    ours = Settings(plugins="", otel_exporter_otlp_endpoint="http://ours.invalid:4318/v1/traces",
                    otel_exporter_otlp_protocol="http/protobuf")
    assert tracing.endpoint(ours) == "http://ours.invalid:4318/v1/traces"


def test_traced_plans_run_the_same_steps() -> None:
    """The traced run only wraps: every step it spans is one of the plain run's."""
    for name in ("answer", "root", "by_id", "children", "latest_rounds", "open_rounds"):
        assert getattr(TracedPlanRun, name) is not getattr(PlanRun, name)
        assert hasattr(PlanRun, name)


def test_off_the_sdk_is_not_even_imported(tmp_path: Path) -> None:
    """A process serving without an endpoint never loads the SDK's tracing nor an
    exporter (redis-py loads OpenTelemetry's API for metrics of its own, when installed)."""
    script = (
        "import sys\n"
        "from spm_api.app import create_app\n"
        "from spm_api.settings import Settings\n"
        f"app = create_app(Settings(database_url='sqlite+aiosqlite:///{tmp_path}/off.db',"
        " plugins='', event_bus='memory'))\n"
        "assert app.state.tracing is None\n"
        "loaded = ('opentelemetry.sdk.trace', 'opentelemetry.exporter')\n"
        "print(sorted(name for name in sys.modules if name.startswith(loaded)))\n")
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("OTEL_", "SPM_OTEL_"))}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=environment, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
