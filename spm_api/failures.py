"""Failures to reach what the API needs (the database, Redis, a port), told in one line:
what failed, where (URLs without their password), and what to try."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url


@dataclass(frozen=True)
class Unavailable(Exception):
    """Something the command needs cannot be reached or used; ``message`` is one line."""

    message: str

    def __str__(self) -> str:
        return self.message


def shown_url(url: str) -> str:
    """``url`` safe to print: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sa_exc.ArgumentError, ValueError):
        return url.split("@", 1)[-1] if "@" in url else url


def _root_message(error: BaseException) -> str:
    """The driver's own words, without SQLAlchemy's wrapping and background link."""
    cause: BaseException = error
    if isinstance(error, sa_exc.DBAPIError) and error.orig is not None:
        cause = error.orig
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    if text.startswith("(") and ") " in text:  # "(sqlite3.OperationalError) unable to …"
        text = text.split(") ", 1)[1]
    return text


def database_failure(error: BaseException, url: str) -> Unavailable | None:
    """``error`` told as a failure to use the database at ``url``, or None when it is not
    one (a bug or a refusal of the rules, reported elsewhere)."""
    where = shown_url(url)
    cause = _root_message(error)
    if isinstance(error, ConnectionRefusedError | socket.gaierror | TimeoutError):
        return Unavailable(
            f"cannot connect to the database at {where}: {cause}; is the server running "
            "and SPM_DATABASE_URL right?")
    if isinstance(error, OSError) and error.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH,
                                                      errno.ECONNRESET):
        return Unavailable(f"cannot connect to the database at {where}: {cause}")
    if not isinstance(error, sa_exc.DBAPIError | sa_exc.InterfaceError):
        return None
    lowered = cause.lower()
    if "does not exist" in lowered and "database" in lowered:
        database = make_url(url).database
        return Unavailable(
            f"the database at {where} does not exist: create it (createdb {database}) or "
            "point SPM_DATABASE_URL at one that does")
    if "unable to open database file" in lowered:
        return Unavailable(
            f"cannot open the SQLite database at {where}: its folder does not exist or is "
            "not writable; fix the path in SPM_DATABASE_URL")
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return Unavailable(
            f"the database at {where} is not migrated ({cause}); run `spm-api db upgrade`")
    if "password authentication failed" in lowered or (
            "role" in lowered and "does not exist" in lowered):
        return Unavailable(f"the database at {where} refused the login: {cause}")
    return Unavailable(f"the database at {where} failed: {cause}")


def redis_failure(error: BaseException, url: str) -> Unavailable:
    return Unavailable(
        f"cannot reach Redis for the event bus at {shown_url(url)}: {_root_message(error)}; "
        "is redis-server running and SPM_REDIS_URL right?")


def ensure_port_free(host: str, port: int) -> None:
    """Raise ``Unavailable`` when ``host:port`` cannot be listened on (another server
    holds it), before anything else is started or printed."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise Unavailable(
                    f"port {port} on {host} is already in use (is another spm-api running?); "
                    f"choose another port: make run PORT={port + 1}, or spm-api serve "
                    f"--port {port + 1}") from None
            raise Unavailable(f"cannot listen on {host}:{port}: {error.strerror}") from None
