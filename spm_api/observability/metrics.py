"""The process's Prometheus metrics, and the text a scrape of ``/metrics`` answers.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``spm-api serve --workers N`` sets it before the
workers start) every process writes its values to files there and a scrape, whichever
worker answers it, reads them all: counters and histograms add up across workers,
gauges of what is open (connections, subscriptions, pool) are summed over the living.

Every request costs one counter and a few histogram observations, looked up once per
distinct label set; nothing is done per field or per event subscriber.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from spm_api.observability.requests import RequestStats

# A ``_created`` series per label set is noise for these.
disable_created_metrics()  # type: ignore[no-untyped-call]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

#: Distinct operation names one process keeps as labels; later ones count as ``other``
#: (clients choose names, and every label set is a time series).
MAX_OPERATION_NAMES = 200
ANONYMOUS = "anonymous"
OTHER = "other"
#: What ``/graphql`` requests count as before any operation is known (a refusal).
NO_OPERATION = "-"

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0)
STATEMENT_BUCKETS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100)

REQUESTS = Counter("spm_requests", "GraphQL requests over HTTP by operation name, type and "
                   "outcome (ok, error, refused, failed)", ["operation", "type", "outcome"])
REQUEST_SECONDS = Histogram("spm_request_duration_seconds", "Time to answer a GraphQL "
                            "request over HTTP", ["operation", "type"],
                            buckets=LATENCY_BUCKETS)
REQUEST_STATEMENTS = Histogram("spm_request_sql_statements", "SQL statements one HTTP "
                               "request ran", buckets=STATEMENT_BUCKETS)
REQUEST_SQL_SECONDS = Histogram("spm_request_sql_duration_seconds", "Time one HTTP request "
                                "spent in SQL statements", buckets=LATENCY_BUCKETS)
POOL_IN_USE = Gauge("spm_db_pool_connections_in_use", "Database connections checked out of "
                    "the pool", multiprocess_mode="livesum")
POOL_WAITING = Gauge("spm_db_pool_connections_waiting", "Requests waiting for a database "
                     "connection from the pool (a new connection being opened included)",
                     multiprocess_mode="livesum")
POOL_WAIT_SECONDS = Histogram("spm_db_pool_wait_seconds", "Time to get a database "
                              "connection from the pool", buckets=LATENCY_BUCKETS)
REPLICA_LAG_SECONDS = Gauge("spm_db_replica_lag_seconds", "How far the read replica was "
                            "behind the primary when last asked (0: it has replayed all "
                            "it received)", multiprocess_mode="livemax")
WS_CONNECTIONS = Gauge("spm_websocket_connections", "WebSocket connections open",
                       multiprocess_mode="livesum")
SUBSCRIPTIONS = Gauge("spm_subscriptions", "Subscriptions running",
                      multiprocess_mode="livesum")
EVENTS_PUBLISHED = Counter("spm_events_published", "Messages published on the event bus, "
                           "by kind", ["kind"])
EVENTS_DELIVERED = Counter("spm_events_delivered", "Subscription events queued for a "
                           "subscriber: shared (one execution for a group) or own (a "
                           "resuming or unshared subscription)", ["path"])
FANOUT_SECONDS = Histogram("spm_event_fanout_seconds", "Time from an event's publication "
                           "on the bus to its payload queued for every member of a group of "
                           "subscribers (read, executed and serialised once)",
                           buckets=LATENCY_BUCKETS)
EVENTS_WRITTEN = Counter("spm_subscription_events_written", "Events of subscriptions the "
                         "planned read path can write: written by the plan (plan), or "
                         "handed to the executor (executor)", ["by"])
CHARGING_RUNS = Counter("spm_charging_runs", "Charging runs computed, by purpose (dry_run, "
                        "issue) and outcome (ok, refused, failed)", ["purpose", "outcome"])
CHARGING_RUN_SECONDS = Histogram("spm_charging_run_duration_seconds", "Time to compute a "
                                 "charging run (the charging models' calls included)",
                                 ["purpose"], buckets=LATENCY_BUCKETS)
CHARGING_RUN_LINES = Counter("spm_charging_run_lines", "Charge lines the charging runs "
                             "computed", ["purpose"])
DB_READS = Counter("spm_db_reads", "GraphQL queries over HTTP with a read replica set, by "
                   "the database they read (replica, primary) and why: no_write (the "
                   "reader wrote nothing the replica may lack), caught_up (it replayed "
                   "the reader's write), behind, lagging (further behind than "
                   "database_replica_max_lag_seconds), unreachable, unknown (the store of "
                   "written positions did not answer)", ["database", "reason"])
PLUGIN_CALLS = Counter("spm_plugin_calls", "Calls into plugin code by plugin, hook and "
                       "outcome (ok, failed)", ["plugin", "hook", "outcome"])
PLUGIN_SECONDS = Histogram("spm_plugin_call_duration_seconds", "Time a call into plugin code "
                           "took", ["plugin", "hook"], buckets=LATENCY_BUCKETS)

_operation_names: set[str] = set()
_request_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def operation_label(name: str | None) -> str:
    if name is None:
        return ANONYMOUS
    if name in _operation_names:
        return name
    if len(_operation_names) >= MAX_OPERATION_NAMES:
        return OTHER
    _operation_names.add(name)
    return name


def record_request(stats: RequestStats, seconds: float) -> None:
    """One request's counters: its operation's count and latency, its SQL."""
    operation = (NO_OPERATION if stats.operation_type is None
                 else operation_label(stats.operation))
    kind = stats.operation_type or NO_OPERATION
    outcome = stats.outcome or "ok"
    key = (operation, kind, outcome)
    children = _request_children.get(key)
    if children is None:
        children = _request_children[key] = (REQUESTS.labels(operation, kind, outcome),
                                             REQUEST_SECONDS.labels(operation, kind))
    children[0].inc()
    children[1].observe(seconds)
    REQUEST_STATEMENTS.observe(stats.statements)
    REQUEST_SQL_SECONDS.observe(stats.sql_seconds)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIR))


def render(extra: Iterable[Collector] = ()) -> bytes:
    """The exposition text: this process's metrics (every worker's in multi-process
    mode), then ``extra`` collectors read for this scrape (the outbox backlog)."""
    if multiprocess():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    scraped = CollectorRegistry()
    for collector in extra:
        scraped.register(collector)
    return text + generate_latest(scraped)


def process_exiting() -> None:
    """Drop this process's live gauges from the multi-process files (its counters stay,
    as Prometheus expects of a counter)."""
    if multiprocess():
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
