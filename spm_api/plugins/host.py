"""The running application's view of its plugins: what they registered, and a guarded
way to call into them (time limit, type check, errors that name the plugin)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

import pluggy

from spm_api.plugins.contracts import (
    ApprovalRule,
    Ballot,
    Charge,
    ChargingModel,
    ChargingPeriod,
    ContractorIntegration,
    EngagementReceipt,
    EngagementRequest,
    PluginSettingsError,
    QuoteOffer,
    QuoteRequest,
    Score,
    ScoringModel,
    ServiceFacts,
    Settings,
    StageChanged,
    Support,
    Verdict,
)
from spm_api.plugins.manager import PluginInfo, PluginLoadError, build_plugin_manager, describe
from spm_api.vocabulary.enums import ApprovalStatus
from spm_api.vocabulary.errors import DomainError, ErrorCode, fail
from spm_api.vocabulary.money import LARGEST

logger = logging.getLogger("spm_api.plugins")

#: What a contractor system may answer to an engagement request.
RECEIPT_DECISIONS = frozenset({"RECEIVED", "ACCEPTED", "DECLINED"})

#: The largest quote or charge stored (the scaled 64-bit amount columns' range).
MAX_QUOTE = LARGEST

#: Worker threads for one plugin's synchronous code.
THREADS_PER_PLUGIN = 4

class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


@dataclass(frozen=True, slots=True)
class Registered(Generic[T]):
    """Something a plugin registered, and which plugin it was."""

    plugin: str
    item: T


class PluginHost:
    """Built once per application from a plugin manager."""

    def __init__(self, manager: pluggy.PluginManager, timeout: float = 5.0) -> None:
        self.manager = manager
        self.timeout = timeout
        # Synchronous plugin code runs in worker threads, so a plugin that blocks cannot
        # stall the event loop and its time limit can be enforced. Each plugin has its
        # own threads: one that hangs uses up only its own.
        self._executors: dict[str, ThreadPoolExecutor] = {}
        self._announcing: set[asyncio.Task[None]] = set()
        self.approval_rules: dict[str, Registered[ApprovalRule]] = self._collect(
            "spm_approval_rules", ApprovalRule)
        self.charging_models: dict[str, Registered[ChargingModel]] = self._collect(
            "spm_charging_models", ChargingModel)
        self.contractor_integrations: dict[str, Registered[ContractorIntegration]] = (
            self._collect("spm_contractor_integrations", ContractorIntegration))
        self.scoring_models: dict[str, Registered[ScoringModel]] = self._collect(
            "spm_scoring_models", ScoringModel)

    @classmethod
    def load(cls, allowed: frozenset[str] | None = None, timeout: float = 5.0) -> PluginHost:
        return cls(build_plugin_manager(allowed), timeout)

    def describe(self) -> list[PluginInfo]:
        return describe(self.manager)

    def plugin_names(self) -> frozenset[str]:
        return frozenset(name for name, plugin in self.manager.list_name_plugin() if plugin)

    def close(self) -> None:
        for executor in self._executors.values():
            executor.shutdown(wait=False, cancel_futures=True)
        self._executors.clear()

    def _executor_of(self, plugin: str) -> ThreadPoolExecutor:
        if plugin not in self._executors:
            self._executors[plugin] = ThreadPoolExecutor(
                max_workers=THREADS_PER_PLUGIN, thread_name_prefix=f"spm-plugin-{plugin}")
        return self._executors[plugin]

    # --- registration -------------------------------------------------------------

    def _collect(self, hook_name: str, kind: type[T]) -> dict[str, Registered[T]]:
        found: dict[str, Registered[T]] = {}
        for impl in getattr(self.manager.hook, hook_name).get_hookimpls():
            try:
                result = impl.function()
                if inspect.isawaitable(result):
                    result = _run_to_completion(result)
            except Exception as error:
                raise PluginLoadError(
                    f"plugin {impl.plugin_name!r}: {hook_name} raised "
                    f"{type(error).__name__}: {error}") from error
            items = list(result) if isinstance(result, Iterable) else [result]
            for item in items:
                if not isinstance(item, kind):
                    raise PluginLoadError(
                        f"plugin {impl.plugin_name!r}: {hook_name} returned {item!r}, "
                        f"expected {kind.__name__} objects")
                name = item.name
                if name in found:
                    raise PluginLoadError(
                        f"plugin {impl.plugin_name!r}: {kind.__name__} {name!r} is already "
                        f"registered by plugin {found[name].plugin!r}")
                found[name] = Registered(impl.plugin_name, item)
        return found

    # --- guarded calls ------------------------------------------------------------

    async def call(self, plugin: str, doing: str, function: Callable[..., Any], *args: Any
                   ) -> Any:
        """Call plugin code within the time limit; any failure becomes PLUGIN_ERROR."""
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
            raise self._failure(plugin, doing, f"did not answer within {self.timeout:g} s",
                                None) from None
        except Exception as error:
            raise self._failure(plugin, doing, f"raised {type(error).__name__}", error) from error
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

    async def evaluate_rule(self, rule_name: str, ballot: Ballot, settings: Settings
                            ) -> Verdict:
        registered = self.approval_rules[rule_name]
        doing = f"evaluating approval rule {rule_name!r}"
        verdict = await self.call(registered.plugin, doing, registered.item.evaluate,
                                  ballot, settings)
        if not (isinstance(verdict, Verdict) and isinstance(verdict.status, ApprovalStatus)
                and isinstance(verdict.explanation, str)):
            raise self._failure(registered.plugin, doing,
                                f"returned {verdict!r} instead of a Verdict", None)
        return verdict

    def validate_settings(self, plugin: str, settings: Mapping[str, Any]) -> None:
        """Let everything the plugin registered check the settings; a refusal raises
        VALIDATION with the plugin's words."""
        validators = [
            registered.item.validate_settings
            for registry in self._registries()
            for registered in registry.values()
            if registered.plugin == plugin
        ]
        for validate in validators:
            try:
                validate(settings)
            except PluginSettingsError as error:
                raise fail(ErrorCode.VALIDATION, f"plugin {plugin!r}: {error}",
                           "settings") from error
            except Exception as error:
                raise self._failure(plugin, "validating its settings",
                                    f"raised {type(error).__name__}", error) from error

    def _registries(self) -> tuple[Mapping[str, Registered[Any]], ...]:
        return (self.approval_rules, self.charging_models, self.contractor_integrations,
                self.scoring_models)

    def validate_parameters(self, model_name: str, parameters: Mapping[str, Any]
                            ) -> dict[str, Any]:
        """The charging model's normalised parameters; a refusal raises VALIDATION."""
        registered = self.charging_models.get(model_name)
        if registered is None:
            known = ", ".join(sorted(self.charging_models))
            raise fail(ErrorCode.VALIDATION,
                       f"no charging model {model_name!r}; installed: {known}", "model")
        try:
            normalised = registered.item.validate_parameters(parameters)
        except PluginSettingsError as error:
            raise fail(ErrorCode.VALIDATION, f"charging model {model_name!r}: {error}",
                       "parameters") from error
        except Exception as error:
            raise self._failure(registered.plugin, f"validating parameters of {model_name!r}",
                                f"raised {type(error).__name__}", error) from error
        if not isinstance(normalised, Mapping):
            raise self._failure(registered.plugin, f"validating parameters of {model_name!r}",
                                f"returned {normalised!r} instead of the parameters", None)
        return dict(normalised)

    async def charge(self, model_name: str, period: ChargingPeriod,
                     parameters: Settings, settings: Settings) -> list[Charge]:
        """The model's charges for one service and period, checked line by line: known
        customers, one line each, amounts in the currency's minor unit."""
        registered = self.charging_models[model_name]
        doing = f"charging {period.service_name!r} for {period.period} with {model_name!r}"
        result = await self.call(registered.plugin, doing, registered.item.charge,
                                 period, parameters, settings)
        problem = _charges_problem(result, period)
        if problem is not None:
            raise self._failure(registered.plugin, doing, problem, None)
        return list(result)

    async def score(self, model_name: str, service: ServiceFacts, support: Support,
                    settings: Settings) -> Score:
        registered = self.scoring_models[model_name]
        doing = f"scoring {service.name!r} with {model_name!r}"
        result = await self.call(registered.plugin, doing, registered.item.score,
                                 service, support, settings)
        if not (isinstance(result, Score) and isinstance(result.value, Decimal)
                and result.value.is_finite() and isinstance(result.explanation, str)):
            raise self._failure(registered.plugin, doing,
                                f"returned {result!r} instead of a Score", None)
        return result

    def integration(self, name: str, field: str = "integration"
                    ) -> Registered[ContractorIntegration]:
        registered = self.contractor_integrations.get(name)
        if registered is None:
            known = ", ".join(sorted(self.contractor_integrations)) or "none"
            raise fail(ErrorCode.VALIDATION,
                       f"no contractor integration {name!r} is installed; installed: {known}",
                       field)
        return registered

    def validate_contractor_settings(self, name: str, settings: Mapping[str, Any]) -> None:
        """A contractor's settings, checked by the integration that will use them."""
        registered = self.integration(name)
        try:
            registered.item.validate_settings(settings)
        except PluginSettingsError as error:
            raise fail(ErrorCode.VALIDATION, f"integration {name!r}: {error}",
                       "settings") from error
        except Exception as error:
            raise self._failure(registered.plugin, "validating contractor settings",
                                f"raised {type(error).__name__}", error) from error

    async def send_engagement(self, name: str, request: EngagementRequest
                              ) -> EngagementReceipt:
        registered = self.integration(name)
        doing = f"sending engagement {request.idempotency_key} through {name!r}"
        receipt = await self.call(registered.plugin, doing, registered.item.send_engagement,
                                  request)
        if not (isinstance(receipt, EngagementReceipt) and isinstance(receipt.reference, str)
                and receipt.decision in RECEIPT_DECISIONS):
            raise self._failure(registered.plugin, doing,
                                f"returned {receipt!r} instead of an EngagementReceipt", None)
        return receipt

    async def request_quote(self, name: str, request: QuoteRequest) -> QuoteOffer:
        registered = self.integration(name)
        ask = registered.item.request_quote
        if ask is None:
            raise fail(ErrorCode.VALIDATION,
                       f"the integration {name!r} cannot ask for quotes", "capabilityId")
        doing = f"asking {name!r} for a quote for {request.capability!r}"
        offer = await self.call(registered.plugin, doing, ask, request)
        if not (isinstance(offer, QuoteOffer) and isinstance(offer.amount, Decimal)
                and offer.amount.is_finite() and 0 <= offer.amount <= MAX_QUOTE
                and isinstance(offer.reference, str)):
            raise self._failure(registered.plugin, doing,
                                f"returned {offer!r} instead of a QuoteOffer", None)
        return offer

    def announce_stage_changed(self, event: StageChanged) -> None:
        """Notify observers in the background: the response does not wait for them."""
        if not self.manager.hook.spm_stage_changed.get_hookimpls():
            return
        task = asyncio.get_running_loop().create_task(self.notify_stage_changed(event))
        self._announcing.add(task)
        task.add_done_callback(self._announcing.discard)

    async def drain(self) -> None:
        """Wait for announcements in flight (at shutdown, and in tests)."""
        while self._announcing:
            await asyncio.gather(*self._announcing, return_exceptions=True)

    async def notify_stage_changed(self, event: StageChanged) -> None:
        """Tell every observer; one failing is logged and does not stop the others."""
        for impl in self.manager.hook.spm_stage_changed.get_hookimpls():
            with contextlib.suppress(DomainError):  # ``call`` logged it with its traceback
                await self.call(impl.plugin_name, "observing a stage change", impl.function,
                                event)


def _charges_problem(result: Any, period: ChargingPeriod) -> str | None:
    """What is wrong with a charging model's answer, or None when it is well formed."""
    if not isinstance(result, (list, tuple)):
        return f"returned {result!r} instead of a list of Charge"
    customers = set(period.customer_ids)
    seen: set[int] = set()
    for charge in result:
        if not (isinstance(charge, Charge) and isinstance(charge.amount, Decimal)
                and charge.amount.is_finite() and isinstance(charge.description, str)):
            return f"returned {charge!r} instead of a Charge"
        if charge.customer_id not in customers:
            return f"charged customer {charge.customer_id}, who did not use the service"
        if charge.customer_id in seen:
            return f"charged customer {charge.customer_id} twice"
        seen.add(charge.customer_id)
        if abs(charge.amount) > MAX_QUOTE:
            return f"charged {charge.amount}, more than the books can hold ({MAX_QUOTE})"
        if charge.amount != period.round(charge.amount):
            return (f"charged {charge.amount}, which is not in {period.currency}'s "
                    f"minor unit")
    return None


def _run_to_completion(awaitable: Any) -> Any:
    """Finish an async registration hook from synchronous start-up code, on its own
    loop in a helper thread, so it works whether or not a loop is already running."""

    async def wait() -> Any:
        return await awaitable

    with ThreadPoolExecutor(max_workers=1) as pool:
        future: Future[Any] = pool.submit(asyncio.run, wait())
        return future.result()
