"""docs/plugins.md documents every hook with its signature: adding a hook without
documenting it fails here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from spm_api.plugins import hookspecs
from spm_api.plugins.manager import build_plugin_manager

PAGE = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"


def _specs() -> dict[str, str]:
    """Every hook spec and its signature as the page should show it."""
    found = {}
    for name, function in vars(hookspecs).items():
        if hasattr(function, f"{hookspecs.PROJECT}_spec"):
            signature = inspect.signature(function)
            parameters = ", ".join(
                f"{p.name}: {p.annotation}" for p in signature.parameters.values())
            found[name] = f"{name}({parameters}) -> {signature.return_annotation}"
    return found


def test_specs_are_found() -> None:
    names = set(_specs())
    assert names == set(build_plugin_manager(frozenset()).hook.__dict__) & names
    assert {"spm_approval_rules", "spm_charging_models", "spm_contractor_integrations",
            "spm_stage_changed"} <= names


def test_every_hook_has_a_heading_with_its_signature() -> None:
    headings = set(re.findall(r"^### `(.+)`$", PAGE.read_text(), flags=re.MULTILINE))
    missing = [signature for signature in _specs().values() if signature not in headings]
    assert not missing, f"document these hooks in docs/plugins.md: {missing}"


def test_no_heading_for_a_hook_that_does_not_exist() -> None:
    headings = re.findall(r"^### `(spm_\w+)\(", PAGE.read_text(), flags=re.MULTILINE)
    assert set(headings) <= set(_specs())
