"""What the command line says when something it needs is missing: one line on stderr
naming what failed, where (no password) and what to try, and a documented exit status."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from spm_api.cli import EXIT_REFUSED, EXIT_UNAVAILABLE, build_parser
from tests.conftest import require_postgres

README = Path(__file__).resolve().parent.parent / "README.md"


def spm_api(*arguments: str, database_url: str, cwd: Path,
            **settings: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPM_DATABASE_URL": database_url, **settings}
    env.pop("SPM_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "spm_api.cli", *arguments], env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_upgrading_a_postgres_database_that_does_not_exist(tmp_path: Path) -> None:
    require_postgres()
    url = "postgresql+asyncpg://postgres:s3cret@127.0.0.1:5432/spm_no_such_database"
    result = spm_api("db", "upgrade", database_url=url, cwd=tmp_path)
    assert result.returncode == EXIT_UNAVAILABLE
    assert one_line(result) == (
        "error [UNAVAILABLE]: the database at "
        "postgresql+asyncpg://postgres:***@127.0.0.1:5432/spm_no_such_database does not "
        "exist: create it (createdb spm_no_such_database) or point SPM_DATABASE_URL at one "
        "that does")
    assert "s3cret" not in result.stderr


def test_upgrading_a_sqlite_file_in_a_missing_folder(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'spm.db'}"
    result = spm_api("db", "upgrade", database_url=url, cwd=tmp_path)
    assert result.returncode == EXIT_UNAVAILABLE
    line = one_line(result)
    assert line.startswith("error [UNAVAILABLE]: cannot open the SQLite database at ")
    assert "fix the path in SPM_DATABASE_URL" in line


def test_serving_against_a_postgres_server_that_is_down(tmp_path: Path, closed_port: int
                                                        ) -> None:
    url = f"postgresql+asyncpg://postgres:s3cret@127.0.0.1:{closed_port}/spm"
    result = spm_api("serve", "--port", "0", database_url=url, cwd=tmp_path)
    assert result.returncode == EXIT_UNAVAILABLE
    line = one_line(result)
    assert line.startswith(
        f"error [UNAVAILABLE]: cannot connect to the database at "
        f"postgresql+asyncpg://postgres:***@127.0.0.1:{closed_port}/spm: ")
    assert line.endswith("is the server running and SPM_DATABASE_URL right?")
    assert "s3cret" not in result.stderr


def test_serving_an_unmigrated_database_says_to_upgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    result = spm_api("serve", "--port", "0", database_url=url, cwd=tmp_path)
    assert result.returncode == EXIT_UNAVAILABLE
    assert one_line(result).endswith("run `spm-api db upgrade`")


def test_serving_on_a_busy_port_names_another(tmp_path: Path, busy_port: int) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'spm.db'}"
    result = spm_api("serve", "--demo", "--port", str(busy_port), database_url=url,
                     cwd=tmp_path)
    assert result.returncode == EXIT_UNAVAILABLE
    assert one_line(result) == (
        f"error [UNAVAILABLE]: port {busy_port} on 127.0.0.1 is already in use (is another "
        f"spm-api running?); choose another port: make run PORT={busy_port + 1}, or "
        f"spm-api serve --port {busy_port + 1}")
    assert result.stdout == "", "nothing is seeded or printed before the port is known free"
    assert not (tmp_path / "spm.db").exists()


def test_serving_with_redis_down(tmp_path: Path, closed_port: int) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'spm.db'}"
    assert spm_api("db", "upgrade", database_url=url, cwd=tmp_path).returncode == 0
    result = spm_api("serve", "--port", "0", database_url=url, cwd=tmp_path,
                     SPM_EVENT_BUS="redis", SPM_REDIS_URL=f"redis://127.0.0.1:{closed_port}/0")
    assert result.returncode == EXIT_UNAVAILABLE
    line = one_line(result)
    assert line.startswith(
        f"error [UNAVAILABLE]: cannot reach Redis for the event bus at "
        f"redis://127.0.0.1:{closed_port}/0: ")


def test_a_bad_argument_is_refused_with_the_usage(tmp_path: Path) -> None:
    result = spm_api("serve", "--port", "eighty", database_url="sqlite+aiosqlite://",
                     cwd=tmp_path)
    assert result.returncode == EXIT_REFUSED
    assert "invalid int value: 'eighty'" in result.stderr


def _commands(parser: argparse.ArgumentParser, path: str = "spm-api"
              ) -> Iterator[tuple[str, argparse.ArgumentParser, str | None]]:
    """Every command with its parser and its summary line in its parent's help."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            summaries = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield f"{path} {name}", sub, summaries.get(name)
                yield from _commands(sub, f"{path} {name}")


def test_every_command_and_option_has_help() -> None:
    parser = build_parser()
    commands = {path: (command, summary) for path, command, summary in _commands(parser)}
    assert {"spm-api serve", "spm-api db upgrade", "spm-api demo", "spm-api demo tokens",
            "spm-api org create", "spm-api person create", "spm-api plugins list",
            "spm-api outbox run", "spm-api import costs", "spm-api import usage",
            "spm-api export-schema", "spm-api person list", "spm-api person grant",
            "spm-api person revoke-role", "spm-api person deactivate",
            "spm-api person reactivate", "spm-api token create", "spm-api token list",
            "spm-api token rotate", "spm-api token revoke"} <= set(commands)
    for path, (command, summary) in commands.items():
        assert summary, f"{path} has no summary"
        for action in command._actions:
            if not isinstance(action, argparse._SubParsersAction):
                assert action.help, f"{path} {action.option_strings or action.dest} has no help"
    top = parser.format_help()
    for name in ("serve", "db", "demo", "org", "person", "token", "plugins", "outbox",
                 "import", "export-schema"):
        assert f"    {name}" in top, name
    assert "``" not in top, "no reST markup in the help"
    serve = commands["spm-api serve"][0].format_help()
    assert "(default: 8000)" in serve and "(default: 127.0.0.1)" in serve


def test_version(tmp_path: Path) -> None:
    result = spm_api("--version", database_url="sqlite+aiosqlite://", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("spm-api 0.")


def test_the_exit_statuses_are_documented() -> None:
    text = README.read_text()
    for status in ("| 0 |", "| 1 |", "| 2 |", "| 3 |"):
        assert status in text
