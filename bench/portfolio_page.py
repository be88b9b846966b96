"""Benchmark: the canonical portfolio page, in process, on SQLite or PostgreSQL.

    .venv/bin/python bench/portfolio_page.py [--postgres | --database-url URL]
        [--requests 200] [--sizes 10,50,100] [--profile 30] [--observability | --tracing]

Seeds a demo organisation (100 services by default: enough for every page size) into a
fresh database, then times, through the full ASGI stack (no network) and one request at
a time, ``services(first: N)`` with, per service, id, name, stage, investment category,
estimated cost, its stage changes (from, to, at, actor's name), its approval votes
(voter's name, decision) and its budget lines (period, category, amount), for each size,
and one service's detail page. Each page is measured through the executor and through
the planned read path side by side, in the same run and on the same data, after checking
that both give the same answer. Prints requests/s, CPU per request and per leaf value,
statements per request and the size of the answer; with ``--profile N``, cProfile's N
costliest functions on the 50-service page (per path), by own time. With
``--observability``, each page's CPU per request with metrics and JSON request lines on
and off instead (two apps, alternating blocks of ten requests, in one process); with
``--tracing``, the same with OpenTelemetry traces on and off.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from spm_api.app import create_app
from spm_api.db import migrations
from spm_api.db.engine import create_engine, create_session_factory
from spm_api.demo import seed_demo
from spm_api.plugins.host import PluginHost
from spm_api.settings import Settings

SERVICE_FIELDS = """
  id name stage investmentCategory estimatedCost { amount currency }
  stageChanges { fromStage toStage at actor { name } }
  approval { votes { voter { name } decision } }
  budgetLines { period category amount { amount currency } }"""


def page(size: int) -> str:
    """The canonical portfolio page at ``size`` services."""
    return f"{{ services(first: {size}) {{ totalCount edges {{ node {{{SERVICE_FIELDS}\n}} }} }} }}"


DETAIL = f"""query Detail($id: ID!) {{ service(id: $id) {{{SERVICE_FIELDS}
  summary objectives owner {{ name }}
  requirements {{ text necessity judgementReason }}
  stakeholderInputs {{ position comment author {{ name }} }}
  deviations {{ aspect kind description }}
}} }}"""


def count_leaves(value: Any) -> int:
    if isinstance(value, dict):
        return sum(count_leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_leaves(v) for v in value)
    return 1


async def measure(url: str, requests: int, sizes: list[int], profile: int,
                  observability: bool = False, tracing: bool = False) -> dict[str, Any]:
    engine = create_engine(url)
    plugins = PluginHost.load(frozenset())
    async with create_session_factory(engine)() as session, session.begin():
        demo = await seed_demo(session, plugins, services=max(*sizes, 1))
    token = next(p["token"] for p in demo["people"] if p["email"].startswith("portfolio@"))
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    def app_for(mode: str) -> Any:
        return create_app(Settings(database_url=url, plugins="", outbox_in_server=False,
                                   planned_reads=mode), engine=engine, plugins=plugins)

    clients = {mode: httpx.AsyncClient(transport=httpx.ASGITransport(app=app_for(mode)),
                                       base_url="http://bench")
               for mode in ("off", "on")}
    headers = {"Authorization": f"Bearer {token}"}
    results: list[dict[str, Any]] = []
    profiles: dict[str, list[str]] = {}

    async def ask(mode: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await clients[mode].post("/graphql", json={"query": query,
                                                              "variables": variables},
                                            headers=headers)
        body: dict[str, Any] = response.json()
        return body

    async def timed(name: str, query: str, variables: dict[str, Any]) -> None:
        nonlocal statements
        answers = {mode: await ask(mode, query, variables) for mode in clients}
        assert "errors" not in answers["off"], answers["off"]
        assert answers["on"] == answers["off"], f"{name}: the paths answer differently"
        for mode, path in (("off", "executor"), ("on", "planned")):
            for _ in range(10):  # warm up caches and the connection pool
                await ask(mode, query, variables)
            event.listen(engine.sync_engine, "before_cursor_execute", count)
            statements = 0
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(requests):
                await ask(mode, query, variables)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            event.remove(engine.sync_engine, "before_cursor_execute", count)
            leaves = count_leaves(answers[mode]["data"])
            results.append({
                "page": name,
                "path": path,
                "requests_per_second": round(requests / wall, 1),
                "cpu_ms_per_request": round(1000 * cpu / requests, 2),
                "cpu_us_per_leaf": round(1_000_000 * cpu / requests / leaves, 2),
                "statements_per_request": statements / requests,
                "leaf_values": leaves,
                "response_bytes": len(json.dumps(answers[mode])),
            })

    if observability or tracing:
        return await _observability(url, engine, plugins, headers, requests, sizes, clients,
                                    tracing)
    for size in sizes:
        await timed(f"services(first: {size})", page(size), {})
    first = (await ask("off", page(1), {}))["data"]["services"]["edges"][0]["node"]["id"]
    await timed("service detail", DETAIL, {"id": first})
    if profile:
        for mode in clients:
            profiled = await _profile(lambda mode=mode: ask(mode, page(50), {}), requests)
            profiles[mode] = _top(profiled, profile)
    for client in clients.values():
        await client.aclose()
    await engine.dispose()
    plugins.close()
    return {"backend": url.split(":", 1)[0], "requests": requests, "pages": results,
            **({"profile": profiles} if profiles else {})}


class _EncodingExporter:
    """What the OTLP exporter does with each batch of spans short of sending it: encode
    it as the protobuf request (in the batching processor's thread, whose CPU the
    process's time includes)."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Any) -> Any:
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
        from opentelemetry.sdk.trace.export import SpanExportResult

        encode_spans(spans).SerializeToString()
        self.spans += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def _tracer_provider(exporter: _EncodingExporter) -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))  # type: ignore[arg-type]
    return provider


async def _observability(url: str, engine: Any, plugins: PluginHost, headers: dict[str, str],
                         requests: int, sizes: list[int], clients: dict[str, Any],
                         tracing: bool = False) -> dict[str, Any]:
    """Each page on both paths, with metrics and JSON request lines on (``SPM_METRICS=
    true SPM_LOG_FORMAT=json``) and off (``SPM_METRICS=false SPM_LOG_FORMAT=text``), in
    alternating blocks of ten requests in one process, so both see the same machine.
    With ``tracing``, OpenTelemetry traces on (a batching processor encoding every span
    as OTLP does, then dropping it) and off instead, metrics at their default (on)."""
    for client in clients.values():
        await client.aclose()
    engines = {"on": create_engine(url), "off": create_engine(url)}  # SQL counted on one
    exporter = _EncodingExporter()
    providers = {"on": _tracer_provider(exporter) if tracing else None, "off": None}
    apps = {(ops, mode): create_app(Settings(
        database_url=url, plugins="", outbox_in_server=False, planned_reads=mode,
        metrics=tracing or ops == "on",
        log_format="json" if ops == "on" and not tracing else "text"),
        engine=engines[ops], plugins=plugins, tracer_provider=providers[ops])
        for ops in ("on", "off") for mode in ("off", "on")}
    http = {key: httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                   base_url="http://bench") for key, app in apps.items()}

    async def ask(key: tuple[str, str], query: str, variables: dict[str, Any]) -> None:
        response = await http[key].post("/graphql", json={"query": query,
                                                          "variables": variables},
                                        headers=headers)
        assert response.status_code == 200 and "errors" not in response.json()

    first_page = await http["off", "off"].post("/graphql", json={"query": page(1)},
                                               headers=headers)
    first = first_page.json()["data"]["services"]["edges"][0]["node"]["id"]
    pages = [(f"services(first: {size})", page(size), {}) for size in sizes]
    pages.append(("service detail", DETAIL, {"id": first}))
    results = []
    blocks = max(requests // 10, 1)
    for name, query, variables in pages:
        for mode, path in (("off", "executor"), ("on", "planned")):
            for ops in ("on", "off"):
                for _ in range(10):  # warm up caches and the pool
                    await ask((ops, mode), query, variables)
            cpu: dict[str, list[float]] = {"on": [], "off": []}
            for block in range(blocks):  # which goes first alternates too
                for ops in (("on", "off") if block % 2 else ("off", "on")):
                    started = time.process_time()
                    for _ in range(10):
                        await ask((ops, mode), query, variables)
                    cpu[ops].append((time.process_time() - started) / 10)
            # Medians: a block another process or a collection slowed says nothing of
            # the difference.
            on, off = (1000 * statistics.median(cpu[ops]) for ops in ("on", "off"))
            results.append({"page": name, "path": path, "cpu_ms_per_request_off": round(off, 3),
                            "cpu_ms_per_request_on": round(on, 3),
                            "overhead_percent": round(100 * (on - off) / off, 1)})
    for client in http.values():
        await client.aclose()
    for one in engines.values():
        await one.dispose()
    await engine.dispose()
    plugins.close()
    if tracing:
        assert providers["on"] is not None
        providers["on"].shutdown()  # the last batch encoded too
        return {"backend": url.split(":", 1)[0], "requests": blocks * 10,
                "tracing": results, "spans_exported": exporter.spans}
    return {"backend": url.split(":", 1)[0], "requests": blocks * 10,
            "observability": results, "fixed_cost": await _fixed_cost()}


async def _fixed_cost(requests: int = 20_000, statements: int = 6) -> dict[str, float]:
    """What the observability code adds to one request, alone: the request middleware
    (id, header, counters, the JSON line) around an app that notes its operation and
    actor and runs ``statements`` statements' worth of the SQL listeners, on and off."""
    from spm_api.observability import sql
    from spm_api.observability.requests import note_actor, note_operation
    from spm_api.web.observe import RequestObserver

    async def app(scope: Any, receive: Any, send: Any) -> None:
        note_operation("Page", "query", "ok")
        note_actor(1, 2)
        for _ in range(statements):
            sql._before(None, None, None, None, context, False)
            sql._after(None, None, None, None, context, False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    class Context:
        pass

    context = Context()
    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": []}

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def send(_message: Any) -> None:
        return None

    microseconds = {}
    for name, observer in (("off", RequestObserver(app, metered=False, logged=False)),
                           ("on", RequestObserver(app, metered=True, logged=True))):
        started = time.process_time()
        for _ in range(requests):
            await observer(scope, receive, send)
        microseconds[name] = round(1e6 * (time.process_time() - started) / requests, 1)
    microseconds["added_us"] = round(microseconds["on"] - microseconds["off"], 1)
    return microseconds


async def _profile(request: Callable[[], Any], requests: int) -> cProfile.Profile:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        await request()
    profiler.disable()
    return profiler


def _top(profiler: cProfile.Profile, count: int) -> list[str]:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(count)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return [line.strip() for line in lines[start:] if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an empty database; default: a fresh SQLite file")
    parser.add_argument("--postgres", action="store_true",
                        help="create and drop a PostgreSQL database at 127.0.0.1 for the run")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--sizes", default="10,50,100", help="page sizes, comma-separated")
    parser.add_argument("--profile", type=int, default=0,
                        help="print cProfile's N costliest functions on the 50-service page")
    parser.add_argument("--observability", action="store_true",
                        help="instead: each page's CPU per request with metrics and JSON "
                             "request lines on and off, alternating in one process "
                             "(send stderr, the request lines, to /dev/null)")
    parser.add_argument("--tracing", action="store_true",
                        help="instead: each page's CPU per request with OpenTelemetry "
                             "traces on (spans encoded as OTLP, not sent) and off, "
                             "alternating in one process (needs the otel extra)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    cleanup = None
    if args.postgres:
        import asyncpg

        name = f"spm_bench_{uuid.uuid4().hex[:8]}"

        async def admin(sql: str) -> None:
            connection = await asyncpg.connect("postgresql://postgres@127.0.0.1/postgres")
            await connection.execute(sql)
            await connection.close()

        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        url = f"postgresql+asyncpg://postgres@127.0.0.1/{name}"
        cleanup = lambda: asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))  # noqa: E731
    elif args.database_url:
        url = args.database_url
    else:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    try:
        migrations.upgrade(url)
        report = asyncio.run(measure(url, args.requests, sizes, args.profile,
                                     args.observability, args.tracing))
        profiles = report.pop("profile", {})
        print(json.dumps(report, indent=2))
        for mode, lines in profiles.items():
            print(f"\n# cProfile, planned_reads={mode}, by own time")
            print("\n".join(lines))
    finally:
        if cleanup:
            cleanup()


if __name__ == "__main__":
    main()
