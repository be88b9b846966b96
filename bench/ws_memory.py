"""Benchmark: where the memory of an idle subscribed WebSocket connection goes.

    .venv/bin/python bench/ws_memory.py [--subscribers 2000] [--clients 2] [--postgres]
        [--bus memory|postgres|redis] [--frames 1] [--top 25] [--settle 2]

Runs the API in a child process of its own under ``tracemalloc`` (uvicorn with the options
``spm-api serve`` uses, on uvloop), on a fresh database seeded as ``bench/subscriptions.py``
seeds it, then opens N graphql-transport-ws connections from ``--clients`` client
processes, each authenticated as the demo's viewer and subscribed to ``stageChanged``,
and compares the server before the first connection and once all are subscribed and
idle. Printed per connection: the resident memory (VmRSS), the memory ``tracemalloc``
sees, the asyncio tasks (by coroutine, with the frames each holds), the objects the
garbage collector tracks (by type), and the allocation sites that grew most (by line,
and by file with ``--group-by filename``; ``--frames 8 --group-by traceback`` shows who
called them). Nothing is sent in between: the connections are idle, as most are.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import shlex
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import subscriptions
from subscriptions import Clients, allow_descriptors, fresh_database, seed, server_env

# --- the server, in its own process ----------------------------------------------------


def coroutine_depth(task: asyncio.Task[Any]) -> tuple[str, int, int]:
    """A task's coroutine, how many coroutine/generator frames it is suspended in and
    their size in bytes (the objects alone, not what their locals refer to)."""
    coro: Any = task.get_coro()
    name = getattr(coro, "__qualname__", type(coro).__name__)
    depth, size = 0, 0
    while coro is not None:
        depth += 1
        size += sys.getsizeof(coro)
        coro = (getattr(coro, "cr_await", None) or getattr(coro, "ag_await", None)
                or getattr(coro, "gi_yieldfrom", None))
        if coro is not None and not hasattr(coro, "cr_frame") and not hasattr(
                coro, "ag_frame") and not hasattr(coro, "gi_frame"):
            break  # a future or an awaitable object, not a frame
    return name, depth, size


def task_stack(task: asyncio.Task[Any]) -> list[str]:
    """Where a task is suspended, outermost first: each coroutine or generator frame with
    its size (the object itself, its locals' values not counted)."""
    lines, coro = [], task.get_coro()
    while coro is not None:
        frame = (getattr(coro, "cr_frame", None) or getattr(coro, "ag_frame", None)
                 or getattr(coro, "gi_frame", None))
        if frame is None:
            lines.append(f"  awaiting {type(coro).__qualname__}")
            break
        lines.append(f"  {sys.getsizeof(coro):5d} B  {frame.f_code.co_qualname}  "
                     f"({Path(frame.f_code.co_filename).name}:{frame.f_lineno})")
        coro = (getattr(coro, "cr_await", None) or getattr(coro, "ag_await", None)
                or getattr(coro, "gi_yieldfrom", None))
    return lines


def type_name(value: object) -> str:
    kind = type(value)
    return f"{kind.__dict__.get('__module__', 'builtins')}.{kind.__qualname__}"


def server_state() -> dict[str, Any]:
    """What the server holds now: tasks, GC-tracked objects by type, a snapshot."""
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, __file__), tracemalloc.Filter(False, tracemalloc.__file__)])
    traced = tracemalloc.get_traced_memory()[0]
    tasks: Counter[str] = Counter()
    frames: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for task in asyncio.all_tasks():
        name, depth, size = coroutine_depth(task)
        tasks[name] += 1
        frames[name] += depth
        sizes[name] += size
    types = Counter(type_name(o) for o in gc.get_objects())
    sample = next((task_stack(t) for t in asyncio.all_tasks()
                   if "run_asgi" in getattr(t.get_coro(), "__qualname__", "")), [])
    return {"tasks": tasks, "frames": frames, "frame_bytes": sizes, "types": types,
            "snapshot": snapshot, "traced": traced, "sample": sample,
            "rss": subscriptions.rss_mib(os.getpid())}


def report(before: dict[str, Any], after: dict[str, Any], count: int, group_by: str,
           top: int) -> str:
    """The growth from ``before`` to ``after``, per connection."""
    kib = 1024 * count
    traced = sum(stat.size_diff for stat in after["snapshot"].compare_to(
        before["snapshot"], "filename"))
    lines = [f"server VmRSS {before['rss']:.1f} MiB before, {after['rss']:.1f} MiB after: "
             f"{1024 * (after['rss'] - before['rss']) / count:.1f} KiB per connection "
             "(tracemalloc's own bookkeeping included)",
             f"traced by tracemalloc: {traced / kib:.1f} KiB per connection, "
             f"{(after['traced'] - before['traced']) / kib:.1f} KiB with the snapshots "
             "(Python's allocators only: not libuv's or OpenSSL's own mallocs)"]
    tasks = after["tasks"] - before["tasks"]
    lines.append(f"asyncio tasks: {sum(after['tasks'].values())} "
                 f"({sum(before['tasks'].values())} before), per connection:")
    for name, number in tasks.most_common():
        each = max(1, after["tasks"][name])
        lines.append(f"  {number / count:5.2f}  {name}  ({after['frames'][name] / each:.0f} "
                     f"frames, {after['frame_bytes'][name] / each / 1024:.1f} KiB of "
                     "frame objects each)")
    if after["sample"]:
        lines.append("one connection's task, where it waits (outermost first):")
        lines += after["sample"]
    types = after["types"].copy()
    types.subtract(before["types"])
    lines.append("objects tracked by the GC, per connection (top 25 by count):")
    for name, number in types.most_common(25):
        if number / count >= 0.5:
            lines.append(f"  {number / count:6.2f}  {name}")
    differences = after["snapshot"].compare_to(before["snapshot"], group_by)
    lines.append(f"allocation sites that grew most ({group_by}), KiB and blocks per connection:")
    for stat in differences[:top]:
        where = stat.traceback.format()
        site = where[0].strip() if group_by != "traceback" else "\n      ".join(
            line.strip() for line in stat.traceback.format(most_recent_first=True))
        lines.append(f"  {stat.size_diff / kib:6.2f} KiB {stat.count_diff / count:6.1f}  {site}")
    return "\n".join(lines)


def server_process(env: dict[str, str], port: int, pipe: Any, frames: int,
                   group_by: str, top: int) -> None:
    """uvicorn serving the API as ``spm-api serve`` does; answers ``measure`` requests."""
    os.environ.update(env)
    allow_descriptors(int(env.get("BENCH_CONNECTIONS", "1000")))
    import uvicorn
    import uvloop

    from spm_api.cli import uvicorn_options
    from spm_api.settings import get_settings

    config = uvicorn.Config("spm_api.asgi:app", host="127.0.0.1", port=port,
                            log_level="warning", **uvicorn_options(get_settings()))
    server = uvicorn.Server(config)
    states: dict[str, dict[str, Any]] = {}

    async def measure(label: str, count: int) -> str:
        states[label] = server_state()
        if label == "before":
            return "measured"
        return report(states["before"], states[label], count, group_by, top)

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def control() -> None:
            """Answer the benchmark's requests, each measured on the server's loop."""
            while (request := pipe.recv())[0] != "stop":
                _, label, count = request
                try:
                    answer = asyncio.run_coroutine_threadsafe(measure(label, count),
                                                              loop).result()
                except Exception as error:  # reported, not left hanging
                    answer = f"measuring failed: {error!r}"
                pipe.send(answer)
            loop.call_soon_threadsafe(setattr, server, "should_exit", True)

        threading.Thread(target=control, daemon=True).start()
        tracemalloc.start(frames)
        await server.serve()

    uvloop.run(main())


# --- the run --------------------------------------------------------------------------


async def wait_listening(port: int, process: Any) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        for _ in range(400):
            if not process.is_alive():
                raise SystemExit(f"the server exited with {process.exitcode}")
            try:
                if (await http.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit("the server did not come up")


async def run(args: argparse.Namespace, env: dict[str, str], viewer: str) -> None:
    port = subscriptions.free_port()
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    env = {**env, "BENCH_CONNECTIONS": str(args.subscribers)}
    server = context.Process(target=server_process,
                             args=(env, port, theirs, args.frames, args.group_by, args.top))
    server.start()
    clients = Clients(args.clients)
    try:
        await wait_listening(port, server)
        mine.send(("measure", "before", 0))
        await asyncio.to_thread(mine.recv)
        started = time.perf_counter()
        await clients.open(f"127.0.0.1:{port}", viewer, args.subscribers, deflate=True)
        print(f"{args.subscribers} connections subscribed in "
              f"{time.perf_counter() - started:.1f} s")
        await asyncio.sleep(args.settle)
        mine.send(("measure", "after", args.subscribers))
        print(await asyncio.to_thread(mine.recv))
        problems = await clients.problems()
        if problems:
            print(f"{len(problems)} unexpected messages, e.g. {problems[:3]}")
    finally:
        clients.close()
        mine.send(("stop",))
        server.join(30)
        if server.is_alive():
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=2,
                        help="client processes the connections are spread over")
    parser.add_argument("--postgres", action="store_true",
                        help=f"recreate the PostgreSQL database {subscriptions.DATABASE}")
    parser.add_argument("--bus", choices=["memory", "postgres", "redis"])
    parser.add_argument("--frames", type=int, default=1,
                        help="frames tracemalloc keeps per allocation")
    parser.add_argument("--group-by", choices=["lineno", "filename", "traceback"],
                        default="lineno")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--settle", type=float, default=2.0,
                        help="seconds to wait after the last subscribe before measuring")
    args = parser.parse_args()
    bus = args.bus or ("postgres" if args.postgres else "memory")
    if bus != "memory" and not args.postgres:
        parser.error(f"--bus {bus} needs --postgres")
    print("command:", shlex.join([".venv/bin/python", "bench/ws_memory.py", *sys.argv[1:]]))
    allow_descriptors(args.subscribers)
    with tempfile.TemporaryDirectory(prefix="spm-bench-wsmem-") as workdir:
        env = server_env(fresh_database(args.postgres, Path(workdir)), bus)
        viewer, _ = seed(env)
        asyncio.run(run(args, env, viewer))


if __name__ == "__main__":
    main()
