"""Without a PostgreSQL server the PostgreSQL half skips with a reason, except in CI."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import require_postgres


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_skips_with_the_reason_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    url = f"postgresql://postgres@127.0.0.1:{_unused_port()}/postgres"
    with pytest.raises(pytest.skip.Exception, match="no PostgreSQL server answers"):
        require_postgres(url)


def test_fails_loudly_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    url = f"postgresql://postgres@127.0.0.1:{_unused_port()}/postgres"
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL is required in CI"):
        require_postgres(url)
