"""The running application's view of its plugins: what they registered, and one guarded
way to call into them (time limit, answer check, errors that name the plugin, tracing).

Nothing here knows a hook family: what to collect is ``hookspecs.REGISTRATIONS``, and
what a call does and how its answer is checked comes with the ``Method``, ``Validator``
or ``Observer`` the call site passes (``contracts``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pluggy

from spm_api.plugins.contracts import PluginSettingsError
from spm_api.plugins.family import (
    E,
    Family,
    Method,
    Named,
    Observer,
    R,
    Registered,
    Validator,
    no_problem,
    settings_validator,
)
from spm_api.plugins.hookspecs import REGISTRATIONS
from spm_api.plugins.manager import PluginInfo, build_plugin_manager, describe
from spm_api.plugins.registry import Registry, collect
from spm_api.plugins.trace import Trace
from spm_api.vocabulary.errors import DomainError, ErrorCode, fail

if TYPE_CHECKING:
    from spm_api.settings import Settings

__all__ = ["PluginHost", "Registered", "Registry"]

logger = logging.getLogger("spm_api.plugins")

#: Worker threads for one plugin's synchronous code.
THREADS_PER_PLUGIN = 4

T = TypeVar("T", bound=Named)


class PluginHost:
    """Built once per application from a plugin manager."""

    def __init__(self, manager: pluggy.PluginManager, timeout: float = 5.0,
                 trace: bool = False) -> None:
        self.manager = manager
        self.timeout = timeout
        self._trace = Trace(enabled=trace)
        # Synchronous plugin code runs in worker threads, so a plugin that blocks cannot
        # stall the event loop and its time limit can be enforced. Each plugin has its
        # own threads: one that hangs uses up only its own.
        self._executors: dict[str, ThreadPoolExecutor] = {}
        self._announcing: set[asyncio.Task[None]] = set()
        self._registries: dict[str, Registry[Any]] = {
            family.hook: collect(manager, family, self._trace) for family in REGISTRATIONS}

    @classmethod
    def load(cls, allowed: frozenset[str] | None = None, timeout: float = 5.0,
             trace: bool = False) -> PluginHost:
        return cls(build_plugin_manager(allowed), timeout, trace)

    @classmethod
    def from_settings(cls, settings: Settings) -> PluginHost:
        """The host ``SPM_PLUGINS``, ``SPM_PLUGIN_TIMEOUT`` and ``SPM_TRACE_PLUGINS`` ask for."""
        return cls.load(settings.allowed_plugins(), settings.plugin_timeout,
                        settings.trace_plugins)

    def describe(self) -> list[PluginInfo]:
        return describe(self.manager)

    def plugin_names(self) -> frozenset[str]:
        return frozenset(name for name, plugin in self.manager.list_name_plugin() if plugin)

    def registry(self, family: Family[T]) -> Registry[T]:
        """What the plugins registered in ``family``, by name."""
        return cast(Registry[T], self._registries[family.hook])

    def registries(self) -> tuple[Registry[Any], ...]:
        return tuple(self._registries.values())

    def close(self) -> None:
        for executor in self._executors.values():
            executor.shutdown(wait=False, cancel_futures=True)
        self._executors.clear()

    def _executor_of(self, plugin: str) -> ThreadPoolExecutor:
        if plugin not in self._executors:
            self._executors[plugin] = ThreadPoolExecutor(
                max_workers=THREADS_PER_PLUGIN, thread_name_prefix=f"spm-plugin-{plugin}")
        return self._executors[plugin]

    # --- the one guarded call -------------------------------------------------------

    async def call(self, method: Method[R], target: str | Registered[Any], *args: Any) -> R:
        """``<item>.<method>(*args)`` within the time limit, its answer checked by the
        method's contract; any failure is PLUGIN_ERROR naming the plugin. ``target`` is
        the registered item, or its name in the method's family."""
        registered = self._resolve(method.family, target)
        name = registered.item.name
        function = getattr(registered.item, method.name)
        if function is None and method.absent is not None:
            raise fail(ErrorCode.VALIDATION, method.absent.format(item=name), method.field)
        hook = f"{method.family.hook}.{method.name}"
        doing = method.doing(name, *args)
        result = await self._guarded(registered.plugin, hook, doing, function, args,
                                     method.problem)
        return cast(R, result)

    def check(self, validator: Validator[R], target: str | Registered[Any], value: Any) -> R:
        """``<item>.<validator>(value)``, at once: a ``PluginSettingsError`` is VALIDATION
        with the plugin's words, any other failure PLUGIN_ERROR."""
        registered = self._resolve(validator.family, target)
        plugin, item = registered.plugin, registered.item.name
        doing = validator.doing.format(plugin=plugin, item=item)
        with self._trace.call(plugin, f"{validator.family.hook}.{validator.name}") as outcome:
            try:
                result = getattr(registered.item, validator.name)(value)
            except PluginSettingsError as error:
                outcome.words = "refused the input"
                prefix = validator.refused_as.format(plugin=plugin, item=item)
                raise fail(ErrorCode.VALIDATION, f"{prefix}: {error}",
                           validator.field) from error
            except Exception as error:
                outcome.words = f"raised {type(error).__name__}"
                raise self._failure(plugin, doing, outcome.words, error) from error
            problem = validator.problem(result, value)
            if problem is not None:
                outcome.words = problem
                raise self._failure(plugin, doing, problem, None)
        return cast(R, result)

    def _resolve(self, family: Family[Any], target: str | Registered[Any]) -> Registered[Any]:
        """The registered item itself, or the one of that name (unknown: VALIDATION)."""
        if isinstance(target, Registered):
            return target
        return self.registry(family).require(target)

    def validate_settings(self, plugin: str, settings: Mapping[str, Any]) -> None:
        """Let everything the plugin registered check the organisation's settings for it;
        a refusal raises VALIDATION with the plugin's words."""
        for registry in self.registries():
            validator = settings_validator(registry.family)
            for registered in registry.values():
                if registered.plugin == plugin:
                    self.check(validator, registered, settings)

    async def _guarded(self, plugin: str, hook: str, doing: str,
                       function: Callable[..., Any], args: tuple[Any, ...],
                       problem: Callable[..., str | None]) -> Any:
        """Run plugin code within the time limit and check its answer with ``problem``
        (called with the answer and ``args``); every failure is logged under an error id
        and raised as PLUGIN_ERROR."""
        with self._trace.call(plugin, hook) as outcome:
            try:
                async with asyncio.timeout(self.timeout):
                    if inspect.iscoroutinefunction(function):
                        result = await function(*args)
                    else:
                        loop = asyncio.get_running_loop()
                        result = await loop.run_in_executor(self._executor_of(plugin),
                                                            partial(function, *args))
                        if inspect.isawaitable(result):
                            result = await result
            except TimeoutError:
                outcome.words = f"did not answer within {self.timeout:g} s"
                raise self._failure(plugin, doing, outcome.words, None) from None
            except Exception as error:
                outcome.words = f"raised {type(error).__name__}"
                raise self._failure(plugin, doing, outcome.words, error) from error
            wrong = problem(result, *args)
            if wrong is not None:
                outcome.words = wrong
                raise self._failure(plugin, doing, wrong, None)
        return result

    @staticmethod
    def _failure(plugin: str, doing: str, what: str, error: BaseException | None
                 ) -> DomainError:
        error_id = uuid.uuid4().hex[:12]
        logger.error("plugin %r %s while %s [error id %s]", plugin, what, doing, error_id,
                     exc_info=error)
        return fail(ErrorCode.PLUGIN_ERROR,
                    f"plugin {plugin!r} {what} while {doing}; the operation was not carried "
                    f"out (error id {error_id})")

    # --- observers --------------------------------------------------------------------

    def announce(self, observer: Observer[E], event: E) -> None:
        """Tell the observers in the background: the response does not wait for them."""
        if not getattr(self.manager.hook, observer.hook).get_hookimpls():
            return
        task = asyncio.get_running_loop().create_task(self.notify(observer, event))
        self._announcing.add(task)
        task.add_done_callback(self._announcing.discard)

    async def drain(self) -> None:
        """Wait for announcements in flight (at shutdown, and in tests)."""
        while self._announcing:
            await asyncio.gather(*self._announcing, return_exceptions=True)

    async def notify(self, observer: Observer[E], event: E) -> None:
        """Tell every observer; one failing is logged and does not stop the others."""
        for impl in getattr(self.manager.hook, observer.hook).get_hookimpls():
            with contextlib.suppress(DomainError):  # logged with its traceback
                await self._guarded(impl.plugin_name, observer.hook, observer.doing,
                                    impl.function, (event,), no_problem)
