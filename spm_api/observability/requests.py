"""The HTTP request in progress, in a context variable: its id, who made it, which
operation it ran, how it ended and what SQL it cost.

The ASGI middleware (``web/observe.py``) opens one per request; the two read paths, the
authentication and the SQL listeners fill it in. Outside a request (WebSocket events,
the outbox worker, the CLI) there is none and every ``note_*`` is a no-op.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from dataclasses import dataclass

#: A request id a client or proxy may send in ``X-Request-Id`` and have kept.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass(slots=True)
class RequestStats:
    request_id: str
    operation: str | None = None
    #: ``query``, ``mutation`` or ``subscription`` once the operation is known.
    operation_type: str | None = None
    #: ``ok``, or ``error`` when the answer holds GraphQL errors; the middleware sets
    #: ``refused`` (4xx) or ``failed`` (5xx, an exception) when nothing ran.
    outcome: str | None = None
    organisation_id: int | None = None
    person_id: int | None = None
    statements: int = 0
    sql_seconds: float = 0.0


CURRENT: ContextVar[RequestStats | None] = ContextVar("spm_request", default=None)


def new_request_id(sent: str | None) -> str:
    """The id a client sent when it is a sane token, else a fresh one."""
    if sent and _ACCEPTED_ID.fullmatch(sent):
        return sent
    return os.urandom(8).hex()


def current_request_id() -> str | None:
    stats = CURRENT.get()
    return None if stats is None else stats.request_id


def note_operation(name: str | None, operation_type: str | None, outcome: str) -> None:
    """The operation the request ran and how it ended (the first one noted wins: a
    planned answer checked by the executor is one operation, not two)."""
    stats = CURRENT.get()
    if stats is not None and stats.outcome is None:
        stats.operation = name
        stats.operation_type = operation_type
        stats.outcome = outcome


def note_actor(organisation_id: int, person_id: int) -> None:
    stats = CURRENT.get()
    if stats is not None:
        stats.organisation_id = organisation_id
        stats.person_id = person_id
