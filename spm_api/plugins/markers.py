"""The marker plugins use on their hook implementations: ``@hookimpl``."""

from __future__ import annotations

import pluggy

from spm_api.plugins.hookspecs import PROJECT

hookimpl = pluggy.HookimplMarker(PROJECT)
