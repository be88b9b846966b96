"""Behaviour that ships with SPM API, registered exactly like third-party plugins."""

from __future__ import annotations

from types import ModuleType

from spm_api.plugins.builtin import majority

#: Plugin name → module, registered by every plugin manager before third-party plugins.
BUILTIN_PLUGINS: dict[str, ModuleType] = {
    "spm_api.majority": majority,
}
