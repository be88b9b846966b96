"""The garbage collector of a server process, set for requests that make no cycles.

A request allocates tens of thousands of short-lived containers (rows, records, the
answer) that reference counting frees; with Python's default threshold (700) they
still set off a young collection every few hundred rows, and every now and then a
full one walks the schema, the plugins and everything else built at start (≈ 180,000
objects, ≈ 0.3 s). Requests leave no cycles of their own (``tests/test_request_garbage``),
so the server collects rarely, and what it built to start is frozen out of every
collection.
"""

from __future__ import annotations

import gc


def tune(threshold: int) -> None:
    """Freeze what exists now and collect after ``threshold`` net allocations (0: leave
    the collector as Python sets it)."""
    if threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(threshold, middle, oldest)
