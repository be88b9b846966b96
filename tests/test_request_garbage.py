"""A request leaves no reference cycle of its own behind: with the garbage collector
off, 200 portfolio pages leave only the few small cycles that dependencies make, each
named here (and in docs/performance.md) with its source. Cycles cost twice: the
collector's passes, and everything they keep alive until it runs."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.engine import create_session_factory
from spm_api.demo import seed_demo
from spm_api.plugins.host import PluginHost
from tests.support import GraphQLClient

PAGE = """{ services(first: 50) { totalCount edges { node {
  id name stage investmentCategory estimatedCost { amount currency }
  stageChanges { fromStage toStage at actor { name } }
  approval { status votes { voter { name } decision } verdicts { rule status } }
  budgetLines { period category amount { amount currency } }
  requirements { text necessity } stakeholderInputs { position author { name } }
  deviations { aspect kind } baseline { frozenAt }
} } } }"""
REQUESTS = 200

#: Cycles dependencies make, by the types of the objects in them: where they come from.
KNOWN_CYCLES: dict[frozenset[str], str] = {
    # sqlalchemy/sql/elements.py: a cloned bind parameter (an IN list) keeps itself in
    # its ``_cloned_set``; a few per statement built.
    frozenset({"BindParameter", "dict", "set"}): "SQLAlchemy bind parameter clones",
    # strawberry/relay/types.py: ListConnection.resolve_connection specialises
    # ``Edge[NodeType]`` anew on every call (a class refers to its own definition) ...
    frozenset({"StrawberryObjectDefinition", "dict", "tuple", "type"}):
        "Strawberry's per-call Edge specialisation",
    # ... through strawberry/utils/inspect.py get_generic_arguments, whose inner
    # function ``add`` calls itself through its closure.
    frozenset({"cell", "function", "tuple"}): "Strawberry's get_generic_arguments",
    # httpx/_models.py: the test client's Response and its stream point at each other.
    frozenset({"BoundAsyncStream", "Response"}): "httpx test client responses",
    # asyncpg/connection.py: a statement cache entry and its lifetime timer (call_later
    # with the entry as argument) refer to each other; dropped together when a pooled
    # connection's cache lets entries go (seen only in a full suite run on PostgreSQL,
    # where the session's pooled connections carry the earlier tests' statements).
    frozenset({"TimerHandle", "_StatementCacheEntry", "tuple"}): "asyncpg statement cache",
}


def strongly_connected(objects: list[Any]) -> Iterator[list[Any]]:
    """The reference cycles among ``objects`` (Tarjan's algorithm, iteratively)."""
    position = {id(item): index for index, item in enumerate(objects)}
    edges = [[position[id(to)] for to in gc.get_referents(item) if id(to) in position]
             for item in objects]
    order = [-1] * len(objects)  # -1: not visited yet
    low = [0] * len(objects)
    on_stack = [False] * len(objects)
    stack: list[int] = []
    counter = 0
    for start in range(len(objects)):
        if order[start] >= 0:
            continue
        work = [(start, 0)]
        while work:
            node, edge = work.pop()
            if edge == 0:
                order[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack[node] = True
            for index in range(edge, len(edges[node])):
                target = edges[node][index]
                if order[target] < 0:
                    work.extend([(node, index + 1), (target, 0)])
                    break
                if on_stack[target]:
                    low[node] = min(low[node], order[target])
            else:
                if low[node] == order[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack[member] = False
                        component.append(objects[member])
                        if member == node:
                            break
                    if len(component) > 1 or node in edges[node]:
                        yield component
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])


async def test_a_request_leaves_no_cycle_of_its_own(
        api: GraphQLClient, db: AsyncEngine, plugins: PluginHost) -> None:
    async with create_session_factory(db)() as session, session.begin():
        demo = await seed_demo(session, plugins, services=20)
    token = demo["people"][1]["token"]
    for _ in range(5):  # warm up caches: documents, compiled SQL, plugin threads
        await api.data(PAGE, token=token)

    gc.collect()
    gc.disable()
    try:
        tracked_before = len(gc.get_objects())
        for _ in range(REQUESTS):
            await api.data(PAGE, token=token)
        tracked_after = len(gc.get_objects())
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()

    ours: Counter[str] = Counter()
    known: Counter[str] = Counter()
    for cycle in strongly_connected(garbage):
        kinds = frozenset(type(item).__name__ for item in cycle)
        if kinds in KNOWN_CYCLES:
            known[KNOWN_CYCLES[kinds]] += 1
        else:
            ours[", ".join(sorted(kinds))] += 1
    del garbage
    assert not ours, f"cycles left by requests: {ours.most_common(10)}"
    growth = (tracked_after - tracked_before) / REQUESTS
    # What the known cycles hold is small and fixed per request (7,000 objects before
    # loaders, the executor and validation stopped leaving cycles); the executor's
    # results, the session's rows and the loaders' futures are all freed at once.
    assert growth < 250, f"{growth:.0f} tracked objects left per request ({known})"
