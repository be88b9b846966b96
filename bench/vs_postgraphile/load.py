"""Load client, run as its own process so its CPU is not the servers'.

    python load.py --url http://127.0.0.1:PORT/graphql --body-file BODY.json \\
        [--header 'Authorization: Bearer ...'] --requests 300 --concurrency 8

POSTs the same GraphQL request ``--requests`` times from ``--concurrency`` keep-alive
connections and prints one JSON line: wall seconds, requests/s and latency
percentiles. Loopback targets only; stops at ``--max-seconds`` whatever is left, and
fails on any non-200 answer or any answer that carries GraphQL errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


async def run(url: str, body: bytes, headers: dict[str, str], requests: int,
              concurrency: int, max_seconds: float) -> dict[str, float | int]:
    latencies: list[float] = []
    failures: list[str] = []
    remaining = requests
    deadline = time.monotonic() + max_seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {**headers, "Content-Type": "application/json"}

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal remaining
        while remaining > 0 and not failures and time.monotonic() < deadline:
            remaining -= 1
            started = time.perf_counter()
            response = await client.post(url, content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200 or b'"errors"' in response.content:
                failures.append(f"{response.status_code}: {response.text[:500]}")

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        wall = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - wall
    if failures:
        sys.exit(f"load: a request failed: {failures[0]}")
    latencies.sort()
    done = len(latencies)

    def percentile(share: float) -> float:
        return round(1000 * latencies[min(done - 1, int(share * done))], 2) if done else 0.0

    return {"requests": done, "wall_seconds": round(wall, 4),
            "requests_per_second": round(done / wall, 1) if wall else 0.0,
            "p50_ms": percentile(0.5), "p95_ms": percentile(0.95),
            "completed": int(done == requests)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--body-file", type=Path, required=True)
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    args = parser.parse_args()
    if urlsplit(args.url).hostname not in LOOPBACK:
        sys.exit("load: only loopback targets")
    headers = dict(h.split(": ", 1) for h in args.header)
    body = args.body_file.read_bytes()
    json.loads(body)  # fail here on a malformed body, not in the servers
    result = asyncio.run(run(args.url, body, headers, args.requests, args.concurrency,
                             args.max_seconds))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
