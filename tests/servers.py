"""Database servers the tests start themselves: a streaming replica of the local
PostgreSQL primary (``pg_basebackup``) and a PgBouncer in transaction mode in front of it.

Both run from a temporary directory as the ``postgres`` OS user (through ``runuser`` when
the tests run as root) on ports the system picks, and are stopped and removed by the
fixtures that start them. What they need and cannot have is a skip with the reason
outside CI and a failure in CI (``require``).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("SPM_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
PRIMARY_HOST, PRIMARY_PORT = "127.0.0.1", 5432
PRIMARY_ADMIN = f"postgresql://postgres@{PRIMARY_HOST}:{PRIMARY_PORT}/postgres"
#: What the primary's pg_hba.conf needs for ``pg_basebackup`` and streaming from
#: 127.0.0.1 (``.ci/run`` adds it too).
REPLICATION_ENTRY = "host replication all 127.0.0.1/32 trust"
#: Settings a hot standby must have at least as high as its primary's.
AT_LEAST_PRIMARY = ("max_connections", "max_worker_processes", "max_wal_senders",
                    "max_prepared_transactions", "max_locks_per_transaction")


def require(reason: str | None) -> None:
    """Skip with ``reason`` (fail in CI, where every server must be there)."""
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_postgres(command: Sequence[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


def run_as_postgres(command: Sequence[str], timeout: float = 120) -> str:
    done = subprocess.run(_as_postgres(command), capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): "
                           f"{done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def cannot_run_as_postgres() -> str | None:
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "there is no postgres OS user to run a PostgreSQL cluster as"
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != "postgres":
        return "a PostgreSQL cluster is started as the postgres OS user: run as root or postgres"
    return None


def _primary(sql: str) -> list[tuple[object, ...]]:
    import asyncpg

    async def run() -> list[tuple[object, ...]]:
        connection = await asyncpg.connect(PRIMARY_ADMIN, timeout=10)
        try:
            return [tuple(row) for row in await connection.fetch(sql)]
        finally:
            await connection.close()

    return asyncio.run(run())


def allow_replication() -> str | None:
    """Make sure the primary lets 127.0.0.1 replicate (adding the pg_hba.conf entry and
    reloading when it is missing and the file may be written); the reason when not."""
    def allowed() -> bool:
        return bool(_primary("SELECT 1 FROM pg_hba_file_rules WHERE 'replication' = "
                             "ANY(database) AND address = '127.0.0.1' AND error IS NULL"))

    try:
        if allowed():
            return None
        level = str(_primary("SHOW wal_level")[0][0])
        if level not in ("replica", "logical"):
            return f"the primary's wal_level is {level}: no streaming replica is possible"
        hba = Path(str(_primary("SHOW hba_file")[0][0]))
    except Exception as error:  # no primary: the PostgreSQL tests say so
        return f"the primary at {PRIMARY_ADMIN} does not answer: {error}"
    if not os.access(hba, os.W_OK):
        return (f"the primary's {hba} has no replication entry and may not be written: "
                f"add {REPLICATION_ENTRY!r} and reload")
    with hba.open("a") as file:
        file.write(f"\n# streaming replicas started by the test suite\n{REPLICATION_ENTRY}\n")
    _primary("SELECT pg_reload_conf()")
    for _ in range(50):
        if allowed():
            return None
        time.sleep(0.1)
    return f"{hba} was given a replication entry but the primary does not apply it"


class ReplicaCluster:
    """A hot standby of the primary on its own port, in ``directory``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="spm-replica-"))
        self.data = self.directory / "data"
        shutil.chown(self.directory, "postgres", "postgres")
        self.directory.chmod(0o700)
        self.started = False

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        run_as_postgres([str(PG_BIN / "pg_basebackup"), "-h", PRIMARY_HOST,
                         "-p", str(PRIMARY_PORT), "-U", "postgres", "-D", str(self.data),
                         "--write-recovery-conf", "--wal-method=stream",
                         "--checkpoint=fast", "--no-sync"])
        floors = {name: str(_primary(f"SHOW {name}")[0][0]) for name in AT_LEAST_PRIMARY}
        lines = [f"port = {self.port}", "listen_addresses = '127.0.0.1'",
                 f"unix_socket_directories = '{self.directory}'", "hot_standby = on",
                 "fsync = off", "shared_buffers = 16MB", "logging_collector = off",
                 f"hba_file = '{self.data / 'pg_hba.conf'}'",
                 f"ident_file = '{self.data / 'pg_ident.conf'}'",
                 *(f"{name} = {value}" for name, value in floors.items())]
        files = {"postgresql.conf": "\n".join(lines) + "\n",
                 "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n",
                 "pg_ident.conf": ""}
        for name, text in files.items():
            path = self.data / name
            path.write_text(text)
            shutil.chown(path, "postgres", "postgres")
            path.chmod(0o600)
        self.start_again()

    def start_again(self) -> None:
        """Start the cluster (after ``stop``), replaying from where it was."""
        run_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60",
                         "-l", str(self.directory / "server.log"), "start"])
        self.started = True

    def stop(self) -> None:
        if self.started:
            run_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                             "-w", "stop"])
            self.started = False

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def pgbouncer_missing() -> str | None:
    if shutil.which("pgbouncer") or Path("/usr/sbin/pgbouncer").exists():
        return None
    return "pgbouncer is not installed (apt-get install pgbouncer; .ci/run does)"


class PgBouncer:
    """PgBouncer in transaction pooling mode in front of the primary, trusting anyone."""

    def __init__(self, database: str) -> None:
        self.port = free_port()
        self.database = database
        self.directory = Path(tempfile.mkdtemp(prefix="spm-pgbouncer-"))
        shutil.chown(self.directory, "postgres", "postgres")
        self.process: subprocess.Popen[bytes] | None = None

    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> None:
        config = self.directory / "pgbouncer.ini"
        users = self.directory / "users.txt"
        users.write_text('"postgres" ""\n')
        config.write_text("\n".join([
            "[databases]",
            f"{self.database} = host={PRIMARY_HOST} port={PRIMARY_PORT} dbname={self.database}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            f"unix_socket_dir = {self.directory}",
            "auth_type = trust",
            f"auth_file = {users}",
            "pool_mode = transaction",
            "default_pool_size = 4",
            "max_client_conn = 200",
            # Prepared statements do not outlive a transaction on a server connection.
            "server_reset_query = DISCARD ALL",
            "server_reset_query_always = 1",
            "ignore_startup_parameters = extra_float_digits",
            f"logfile = {self.directory / 'pgbouncer.log'}",
            "log_connections = 0",
            "log_disconnections = 0",
            "log_stats = 0",
            "",
        ]))
        for path in (config, users):
            shutil.chown(path, "postgres", "postgres")
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        self.process = subprocess.Popen([binary, str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL,
                                        user="postgres" if os.geteuid() == 0 else None)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.directory / "pgbouncer.log"
                said = log.read_text().strip() if log.exists() else ""
                raise RuntimeError(f"pgbouncer exited ({self.process.returncode}): {said}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("pgbouncer did not start listening within 20 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)
