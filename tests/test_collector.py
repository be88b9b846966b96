"""The server process's garbage collector: start-up objects frozen, rare collections."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = ("import gc, spm_api.asgi; "
         "print(gc.get_threshold()[0], gc.get_freeze_count() > 100_000)")


@pytest.mark.parametrize(("setting", "expected"), [(None, "50000 True"), ("0", "700 False"),
                                                   ("20000", "20000 True")])
def test_the_server_process_freezes_what_it_built_and_collects_rarely(
        tmp_path: Path, setting: str | None, expected: str) -> None:
    env = {**os.environ, "SPM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'gc.db'}",
           "SPM_PLUGINS": ""}
    env.pop("SPM_GC_THRESHOLD", None)
    if setting is not None:
        env["SPM_GC_THRESHOLD"] = setting
    found = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                           text=True, timeout=120, check=True)
    assert found.stdout.split("\n")[-2] == expected
