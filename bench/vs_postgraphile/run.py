"""Server CPU per request: this API against PostGraphile 5 over the same database.

    .venv/bin/python bench/vs_postgraphile/run.py [--requests 300] [--concurrency 1,8]
        [--api-label api] [--api-env KEY=VALUE ...] [--api LABEL:KEY=VALUE,... ...]

Creates a fresh PostgreSQL database on 127.0.0.1:5432, seeds the demo organisation,
starts ``spm-api serve`` and PostGraphile side by side, checks that both answer the
portfolio and detail pages as the database says, then loads each page from a separate
client process and prints, per server and concurrency, requests/s and the CPU per
request of the server process and of the PostgreSQL backends serving it. The database
is dropped at the end. See README.md beside this file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import check
import cpu
import database
import queries
import servers
import statements
from servers import Server

HERE = Path(__file__).resolve().parent
PAGES = ("portfolio", "detail")


def parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            sys.exit(f"expected KEY=VALUE, not {pair!r}")
        env[key] = value
    return env


def api_variants(args: argparse.Namespace) -> list[tuple[str, dict[str, str]]]:
    """(label, extra env of spm-api serve) for each API variant to measure."""
    variants = [(args.api_label, parse_env(args.api_env))]
    for spec in args.api:
        label, _, pairs = spec.partition(":")
        variants.append((label, parse_env([p for p in pairs.split(",") if p])))
    labels = [label for label, _ in variants]
    if len(set(labels)) != len(labels) or "postgraphile" in labels:
        sys.exit(f"API labels must differ from each other and from postgraphile: {labels}")
    return variants


def bodies(server: Server, db: database.BenchDatabase) -> dict[str, dict[str, Any]]:
    if server.kind == "api":
        return {"portfolio": {"query": queries.API_PAGE},
                "detail": {"query": queries.API_DETAIL,
                           "variables": {"id": check.api_global_id(
                               "Service", db.detail_service_id)}}}
    return {"portfolio": {"query": queries.PGL_PAGE,
                          "variables": {"organisation": db.organisation_id}},
            "detail": {"query": queries.PGL_DETAIL,
                       "variables": {"id": db.detail_service_id}}}


async def load(server: Server, body_file: Path, requests: int, concurrency: int,
               max_seconds: float) -> dict[str, Any]:
    """Run the load client (its own process) against ``server``; its JSON result."""
    command = [str(HERE / "load.py"), "--url", server.url, "--body-file", str(body_file),
               "--requests", str(requests), "--concurrency", str(concurrency),
               "--max-seconds", str(max_seconds)]
    for name, value in server.headers.items():
        command += ["--header", f"{name}: {value}"]
    client = await asyncio.create_subprocess_exec(
        sys.executable, *command, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await client.communicate()
    if client.returncode != 0:
        sys.exit(f"{server.label}: load client failed: {err.decode().strip()}")
    result: dict[str, Any] = json.loads(out)
    return result


def measure(server: Server, page: str, body_file: Path, db: database.BenchDatabase,
            args: argparse.Namespace, concurrency: int, leaves: int) -> dict[str, Any]:
    asyncio.run(load(server, body_file, args.warmup, concurrency, args.max_seconds))
    meter = cpu.Meter(server.pid, db.name, database.ADMIN_URL)
    timed, used = asyncio.run(meter.run(
        load(server, body_file, args.requests, concurrency, args.max_seconds)))
    done = timed["requests"]
    if not timed["completed"]:
        print(f"    {server.label}: only {done} of {args.requests} requests within "
              f"--max-seconds", flush=True)
    process_ms = 1000 * used.server_seconds / done
    backend_ms = 1000 * used.backend_seconds / done
    return {
        "server": server.label, "page": page, "concurrency": concurrency, **timed,
        "cpu_ms_per_request": round(process_ms + backend_ms, 3),
        "process_cpu_ms_per_request": round(process_ms, 3),
        "postgres_cpu_ms_per_request": round(backend_ms, 3),
        "cpu_us_per_leaf": round(1000 * (process_ms + backend_ms) / leaves, 2),
        "leaf_values": leaves,
        "postgres_backends": used.backend_count,
        "postgres_backends_opened": used.backends_opened,
        "postgres_backends_closed": used.backends_closed,
        "application_names": list(used.application_names),
    }


def count_statements(variants: list[tuple[str, dict[str, str]]], db: database.BenchDatabase,
                     pages: list[str], requests: int) -> dict[tuple[str, str], dict[str, float]]:
    """SQL statements per request of each server and page, from a second instance of
    each connected through the counting proxy (``requests`` each, after a warm-up)."""
    proxy = statements.CountingProxy()
    port = proxy.start()
    counted: dict[tuple[str, str], dict[str, float]] = {}
    try:
        for label, env in [*variants, ("postgraphile", {})]:
            if label == "postgraphile":
                server = servers.start_postgraphile(
                    db.plain_url.replace(":5432/", f":{port}/"))
            else:
                server = servers.start_api(label, db.api_url.replace(":5432/", f":{port}/"),
                                           db.token, env)
            try:
                server.bodies = bodies(server, db)
                for page in pages:
                    for _ in range(5):
                        check.ask(server, page)
                    before = proxy.counts.copy()
                    for _ in range(requests):
                        check.ask(server, page)
                    simple = (proxy.counts["Q"] - before["Q"]) / requests
                    extended = (proxy.counts["E"] - before["E"]) / requests
                    counted[(label, page)] = {
                        "sql_statements_per_request": simple + extended,
                        # BEGIN, COMMIT and pool pings go as simple queries
                        "sql_simple_queries_per_request": simple,
                        "sql_extended_executions_per_request": extended}
            finally:
                server.stop()
    finally:
        proxy.stop()
    return counted


def table(results: list[dict[str, Any]], reference: str) -> str:
    header = (f"{'page':<10} {'c':>2} {'server':<14} {'req/s':>8} {'p50 ms':>8} "
              f"{'CPU ms/req':>10} {'process':>8} {'postgres':>8} {'us/leaf':>8} "
              f"{'SQL/req':>7} {'ratio':>6}")
    lines = [header, "-" * len(header)]
    by_key = {(r["page"], r["concurrency"], r["server"]): r for r in results}
    for r in results:
        ref = by_key[(r["page"], r["concurrency"], reference)]
        ratio = r["cpu_ms_per_request"] / ref["cpu_ms_per_request"]
        lines.append(
            f"{r['page']:<10} {r['concurrency']:>2} {r['server']:<14} "
            f"{r['requests_per_second']:>8.1f} {r['p50_ms']:>8.2f} "
            f"{r['cpu_ms_per_request']:>10.2f} {r['process_cpu_ms_per_request']:>8.2f} "
            f"{r['postgres_cpu_ms_per_request']:>8.2f} {r['cpu_us_per_leaf']:>8.2f} "
            f"{r.get('sql_statements_per_request', float('nan')):>7.1f} {ratio:>6.2f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="timed requests per run")
    parser.add_argument("--warmup", type=int, default=30, help="untimed requests first")
    parser.add_argument("--concurrency", default="1,8", help="comma-separated levels")
    parser.add_argument("--pages", default=",".join(PAGES), help="portfolio,detail")
    parser.add_argument("--services", type=int, default=50, help="demo services to seed")
    parser.add_argument("--max-seconds", type=float, default=300.0,
                        help="time bound of each load run")
    parser.add_argument("--api-label", default="api",
                        help="name of the API variant started with --api-env")
    parser.add_argument("--api-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment of spm-api serve (repeatable)")
    parser.add_argument("--api", action="append", default=[], metavar="LABEL:KEY=VALUE,...",
                        help="one more API variant to measure next to the first (repeatable)")
    parser.add_argument("--count-requests", type=int, default=20,
                        help="requests of the statement-counting pass (0 skips it)")
    parser.add_argument("--json", type=Path, help="also write the summary to this file")
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]
    pages = [page for page in args.pages.split(",") if page]
    if not set(pages) <= set(PAGES):
        sys.exit(f"--pages: choose among {', '.join(PAGES)}")
    variants = api_variants(args)
    servers.ensure_node_modules()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    versions = servers.versions()

    print(f"==> seeding a fresh database ({args.services} services)", flush=True)
    db = database.create(args.services)
    running: list[Server] = []
    try:
        for label, env in variants:
            running.append(servers.start_api(label, db.api_url, db.token, env))
        running.append(servers.start_postgraphile(db.plain_url))
        sizes: dict[tuple[str, str], dict[str, int]] = {}
        for server in running:
            server.bodies = bodies(server, db)
            for page in pages:
                sizes[(server.label, page)] = check.verify(
                    server, page, db.plain_url, db.organisation_id, db.detail_service_id)
                print(f"==> {server.label} {page}: matches the database, "
                      f"{sizes[(server.label, page)]['leaf_values']} leaf values", flush=True)
        results = []
        with tempfile.TemporaryDirectory() as scratch:
            for page in pages:
                for level in levels:
                    for server in running:  # interleaved, so drift hits every server alike
                        body_file = Path(scratch) / f"{server.label}-{page}.json"
                        body_file.write_text(json.dumps(server.bodies[page]))
                        leaves = sizes[(server.label, page)]["leaf_values"]
                        print(f"==> {page} c={level} {server.label}", flush=True)
                        results.append(measure(server, page, body_file, db, args, level,
                                               leaves))
        for server in running:
            server.stop()
        if args.count_requests:
            print("==> counting SQL statements per request (through a loopback proxy)",
                  flush=True)
            counted = count_statements(variants, db, pages, args.count_requests)
            for result in results:
                result.update(counted[(result["server"], result["page"])])
    finally:
        for server in running:
            server.stop()
        database.drop(db.name)

    summary = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "machine": {"cores": os.cpu_count(), "load_average_at_start": load_at_start,
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
                    **versions, "postgresql": db.postgres_version},
        "requests": args.requests, "warmup": args.warmup, "services": args.services,
        "api_variants": [{"label": label, "env": env} for label, env in variants],
        "answers": [{"server": label, "page": page, **size}
                    for (label, page), size in sizes.items()],
        "results": results,
        "ratios": ratios(results, [label for label, _ in variants]),
    }
    text = json.dumps(summary, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    print()
    print(table(results, "postgraphile"))
    print("ratio: CPU per request against PostGraphile's; money is PostGraphile's raw "
          "scaled BIGINT")


def ratios(results: list[dict[str, Any]], labels: list[str]) -> list[dict[str, Any]]:
    """Each API variant's CPU per request over PostGraphile's, page by concurrency."""
    by_key = {(r["page"], r["concurrency"], r["server"]): r for r in results}
    out = []
    for (page, level, server), r in by_key.items():
        if server in labels:
            ref = by_key[(page, level, "postgraphile")]
            out.append({"server": server, "page": page, "concurrency": level,
                        **{key: round(r[key] / ref[key], 2) if ref[key] else None
                           for key in ("cpu_ms_per_request", "process_cpu_ms_per_request",
                                       "postgres_cpu_ms_per_request")}})
    return out


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"done in {time.monotonic() - started:.0f}s")
