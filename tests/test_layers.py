"""The layer contracts in pyproject.toml hold, and `lint-imports` catches a breach.

Each case copies the packages into a temporary directory, breaks one file there and runs
`lint-imports` on the copy, so the working tree is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
LAYERS = "Layers: graphql > realtime > domain > models > db > vocabulary"
NO_SQL = "Resolvers hold no SQL: graphql imports neither sqlalchemy nor the models"
PLUGINS = "Plugins see the vocabulary and the plugin contracts only"
NO_STRAWBERRY = "The domain and everything below it know nothing of Strawberry"
CONTRACTS = (LAYERS, NO_SQL, NO_STRAWBERRY, PLUGINS)


def _copy_tree(into: Path) -> Path:
    shutil.copytree(ROOT / "spm_api", into / "spm_api",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for package in sorted(ROOT.glob("plugins/*/spm_*")):
        shutil.copytree(package, into / package.name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", into / "pyproject.toml")
    return into


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    # The copy comes first on the path, ahead of the editable install.
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_untouched_tree_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint(_copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    for contract in CONTRACTS:
        assert f"{contract} KEPT" in result.stdout


@pytest.mark.parametrize(("broken_file", "line", "contracts"), [
    ("spm_api/graphql/finance/queries.py", "from sqlalchemy import select  # noqa", [NO_SQL]),
    ("spm_api/graphql/sourcing/queries.py", "from spm_api.models import Contractor  # noqa",
     [NO_SQL]),
    # Through the GraphQL types the models would reach Strawberry as well.
    ("spm_api/models/portfolio.py", "from spm_api.graphql.portfolio import types  # noqa",
     [LAYERS, NO_STRAWBERRY]),
    ("spm_api/domain/portfolio/services.py", "from spm_api.realtime import bus  # noqa",
     [LAYERS]),
    ("spm_api/domain/finance/books.py", "import strawberry  # noqa", [NO_STRAWBERRY]),
    ("spm_api/plugins/builtin/approvals/majority.py",
     "from spm_api.domain.approvals import rounds  # noqa", [PLUGINS]),
])
def test_a_breach_fails_and_names_its_contract(tmp_path: Path, broken_file: str, line: str,
                                               contracts: list[str]) -> None:
    tree = _copy_tree(tmp_path)
    _append(tree / broken_file, line)
    result = _lint(tree)
    assert result.returncode != 0, result.stdout
    broken = [name for name in CONTRACTS if f"{name} BROKEN" in result.stdout]
    assert broken == contracts, result.stdout
