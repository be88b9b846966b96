"""Collecting what plugins register, one family at a time, and choosing each family's
default from what the registrations say, never from a name the core knows."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import Any, TypeVar

import pluggy

from spm_api.plugins.family import Family, Named, Registered
from spm_api.plugins.manager import PluginLoadError, builtin_plugin_manager
from spm_api.plugins.trace import Trace
from spm_api.vocabulary.errors import ErrorCode, fail

T = TypeVar("T", bound=Named)


class Registry(Mapping[str, Registered[T]]):
    """One family's registered items by name, and its default (None when the family
    needs none and no plugin marked one)."""

    def __init__(self, family: Family[T], items: Mapping[str, Registered[T]],
                 default: Registered[T] | None) -> None:
        self.family = family
        self._items = dict(items)
        self.default = default

    def __getitem__(self, name: str) -> Registered[T]:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def require(self, name: str) -> Registered[T]:
        """The item called ``name``; a name nobody registered is a VALIDATION error on
        the family's field, listing what is installed."""
        registered = self._items.get(name)
        if registered is None:
            known = ", ".join(sorted(self._items)) or "nothing"
            raise fail(ErrorCode.VALIDATION,
                       f"no {self.family.noun} {name!r} is installed; installed: {known}",
                       self.family.field)
        return registered


def collect(manager: pluggy.PluginManager, family: Family[T], trace: Trace | None = None
            ) -> Registry[T]:
    """Call every implementation of the family's hook once; a plugin that raises,
    returns something else than ``family.kind`` objects or reuses a name stops the start
    with a PluginLoadError naming it, and so does a default that is not exactly one
    (or, for a family that needs none, more than one)."""
    found: dict[str, Registered[T]] = {}
    for impl in getattr(manager.hook, family.hook).get_hookimpls():
        with (trace or Trace(enabled=False)).call(impl.plugin_name, family.hook):
            try:
                result = impl.function()
                if inspect.isawaitable(result):
                    result = _run_to_completion(result)
            except Exception as error:
                raise PluginLoadError(
                    f"plugin {impl.plugin_name!r}: {family.hook} raised "
                    f"{type(error).__name__}: {error}") from error
        items = list(result) if isinstance(result, Iterable) else [result]
        for item in items:
            if not isinstance(item, family.kind):
                raise PluginLoadError(
                    f"plugin {impl.plugin_name!r}: {family.hook} returned {item!r}, "
                    f"expected {family.kind.__name__} objects")
            name = item.name
            if name in found:
                raise PluginLoadError(
                    f"plugin {impl.plugin_name!r}: {family.kind.__name__} {name!r} is "
                    f"already registered by plugin {found[name].plugin!r}")
            found[name] = Registered(impl.plugin_name, item)
    return Registry(family, found, _default(family, found))


def _default(family: Family[T], found: Mapping[str, Registered[T]]) -> Registered[T] | None:
    marked = [registered for registered in found.values()
              if getattr(registered.item, "default", False) is True]
    if len(marked) > 1:
        raise PluginLoadError(
            f"{len(marked)} {family.plural} are marked default: {_listed(marked)}; "
            f"exactly one may be, so only one of these plugins can be loaded")
    if not marked and family.needs_default:
        registered = _listed(list(found.values())) or "nothing"
        raise PluginLoadError(
            f"no {family.noun} is marked default, and one must be: the core falls back "
            f"on it; registered: {registered}")
    return marked[0] if marked else None


def _listed(items: list[Registered[Any]]) -> str:
    return ", ".join(f"{registered.item.name!r} (plugin {registered.plugin!r})"
                     for registered in items)


@cache
def builtin_default(family: Family[Any]) -> str:
    """The name of the family's default among the built-in plugins, for defaults that
    must be known before any host exists (the GraphQL schema's, a stored choice's
    absence). A running host has the same default: the built-ins always load and a
    second default stops the start."""
    default = collect(builtin_plugin_manager(), family).default
    if default is None:
        raise PluginLoadError(f"the built-in plugins mark no {family.noun} default")
    name: str = default.item.name
    return name


def _run_to_completion(awaitable: Any) -> Any:
    """Finish an async registration hook from synchronous start-up code, on its own
    loop in a helper thread, so it works whether or not a loop is already running."""

    async def wait() -> Any:
        return await awaitable

    with ThreadPoolExecutor(max_workers=1) as pool:
        future: Future[Any] = pool.submit(asyncio.run, wait())
        return future.result()
