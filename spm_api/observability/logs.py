"""``SPM_LOG_FORMAT=json``: every log line one JSON object, and one line per request
(``spm_api.requests``) with its id, who, which operation, how long, how many statements
and how it ended. The readable default leaves uvicorn's lines as they are."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from spm_api.observability.requests import RequestStats, current_request_id

REQUESTS_LOGGER = "spm_api.requests"
request_log = logging.getLogger(REQUESTS_LOGGER)


class JsonFormatter(logging.Formatter):
    """A record as one JSON line; inside a request it carries the request id."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        elif (request_id := current_request_id()) is not None:
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def request_fields(stats: RequestStats, method: str, path: str, status: int,
                   seconds: float) -> dict[str, Any]:
    return {
        "request_id": stats.request_id,
        "method": method,
        "path": path,
        "status": status,
        "organisation": stats.organisation_id,
        "person": stats.person_id,
        "operation": stats.operation,
        "operation_type": stats.operation_type,
        "outcome": stats.outcome,
        "duration_ms": round(seconds * 1000, 3),
        "statements": stats.statements,
        "sql_ms": round(stats.sql_seconds * 1000, 3),
    }


def log_request(stats: RequestStats, method: str, path: str, status: int,
                seconds: float) -> None:
    if request_log.isEnabledFor(logging.INFO):
        request_log.info("request", extra={"fields": request_fields(stats, method, path,
                                                                    status, seconds)})


def uvicorn_log_config(log_format: str, level: str = "info") -> dict[str, Any] | None:
    """uvicorn's logging in JSON (its access log off: the request line replaces it), or
    None to keep uvicorn's readable default."""
    if log_format != "json":
        return None
    handler = {"class": "logging.StreamHandler", "formatter": "json",
               "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"json": handler},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": [], "propagate": False},
            "spm_api": {"handlers": ["json"], "level": "INFO", "propagate": False},
        },
    }


def install(log_format: str) -> None:
    """JSON lines for the ``spm_api`` loggers when nothing configured them (an app
    served by uvicorn directly, or built by a test)."""
    if log_format != "json":
        return
    logger = logging.getLogger("spm_api")
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
