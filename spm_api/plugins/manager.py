"""Building the plugin manager: built-ins first, then the installed entry points that
``SPM_PLUGINS`` allows, then a check that every hook implementation matches a spec."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib.metadata import PackageNotFoundError, entry_points, version

import pluggy

from spm_api.plugins import hookspecs
from spm_api.plugins.builtin import BUILTIN_PLUGINS

ENTRY_POINT_GROUP = hookspecs.PROJECT


class PluginLoadError(RuntimeError):
    """The configured plugins cannot be loaded; the server must not start half-extended."""


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """One registered plugin, as ``spm-api plugins list`` shows it."""

    name: str
    version: str
    builtin: bool
    hooks: tuple[str, ...]


def installed_entry_points() -> frozenset[str]:
    return frozenset(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


def builtin_plugin_manager() -> pluggy.PluginManager:
    """A manager with the built-in plugins only."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for name, module in BUILTIN_PLUGINS.items():
        _load(manager, name, partial(manager.register, module, name))
    return manager


def build_plugin_manager(allowed: frozenset[str] | None = None) -> pluggy.PluginManager:
    """A manager with the built-ins and the allowed third-party plugins.

    ``allowed`` None loads every installed plugin; naming one that is not installed
    is an error, so a typo in ``SPM_PLUGINS`` cannot silently drop a rule.
    """
    manager = builtin_plugin_manager()
    installed = installed_entry_points()
    if allowed is not None and allowed - installed:
        raise PluginLoadError(
            f"SPM_PLUGINS names plugins that are not installed: "
            f"{', '.join(sorted(allowed - installed))}")
    for name in sorted(installed if allowed is None else allowed):
        _load(manager, name,
              partial(manager.load_setuptools_entrypoints, ENTRY_POINT_GROUP, name=name))
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginLoadError(_named(manager, error)) from error
    return manager


def _load(manager: pluggy.PluginManager, name: str, load: Callable[[], object]) -> None:
    """Register one plugin; any failure stops the start with an error naming it."""
    try:
        load()
    except pluggy.PluginValidationError as error:
        raise PluginLoadError(_named(manager, error, name)) from error
    except Exception as error:
        raise PluginLoadError(
            f"plugin {name!r} could not be loaded: {type(error).__name__}: {error}"
        ) from error


def _named(manager: pluggy.PluginManager, error: pluggy.PluginValidationError,
           fallback: str | None = None) -> str:
    name = manager.get_name(error.plugin) or fallback or repr(error.plugin)
    return f"plugin {name!r}: {error}"


def describe(manager: pluggy.PluginManager) -> list[PluginInfo]:
    """Each plugin with its version and the hooks it implements, built-ins first."""
    distributions = {id(plugin): dist for plugin, dist in manager.list_plugin_distinfo()}
    infos = []
    for name, plugin in manager.list_name_plugin():
        if plugin is None:
            continue
        dist = distributions.get(id(plugin))
        infos.append(PluginInfo(
            name=name,
            version=dist.version if dist is not None else _own_version(),
            builtin=name in BUILTIN_PLUGINS,
            hooks=tuple(sorted(caller.name for caller in manager.get_hookcallers(plugin) or ())),
        ))
    return sorted(infos, key=lambda info: (not info.builtin, info.name))


def _own_version() -> str:
    try:
        return version("spm-api")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"
