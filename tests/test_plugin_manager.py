"""Loading plugins: built-ins always, installed ones as ``SPM_PLUGINS`` allows, and a
plugin that does not keep to the hook specs stops the start with an error naming it.
Also what ``spm-api plugins list`` shows."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from decimal import Decimal
from importlib.metadata import entry_points, version
from pathlib import Path
from typing import Any

import pluggy
import pytest

from spm_api.plugins import (
    ApprovalRule,
    ApprovalStatus,
    Ballot,
    ChargingModel,
    InvestmentCategory,
    ServiceFacts,
    Settings,
    StageChanged,
    Verdict,
    hookimpl,
)
from spm_api.plugins import manager as manager_module
from spm_api.plugins.builtin import BUILTIN_PLUGINS
from spm_api.plugins.builtin.approvals import majority
from spm_api.plugins.contracts import (
    APPROVAL_RULES,
    CHARGING_MODELS,
    CONTRACTOR_INTEGRATIONS,
    EVALUATE,
    SCORING_MODELS,
)
from spm_api.plugins.host import PluginHost, Registered
from spm_api.plugins.manager import PluginInfo, PluginLoadError, build_plugin_manager, describe

#: The built-in plugins, in the order ``describe`` and ``plugins list`` show them.
BUILTINS = sorted(BUILTIN_PLUGINS)
#: The built-in that registers the ``majority`` rule.
MAJORITY = "spm_api.majority"
#: The charging models that ship with SPM API, each from ``spm_api.charging.<model>``.
BUILTIN_CHARGING_MODELS = {"none", "showback", "cost_recovery", "cost_plus", "fixed_price",
                           "price_per_unit", "tiered"}

#: Registry (as ``plugins list`` names it) → the hook that fills it.
HOOK_OF = {"approval rules": "spm_approval_rules",
           "charging models": "spm_charging_models",
           "contractor integrations": "spm_contractor_integrations",
           "scoring models": "spm_scoring_models",
           "measurement sources": "spm_measurement_sources",
           "health models": "spm_health_models"}

#: What each built-in registers, as ``plugins list --json`` shows it.
BUILTIN_REGISTERS: dict[str, dict[str, list[str]]] = {
    MAJORITY: {"approval rules": ["majority"]},
    "spm_api.resources_check": {"approval rules": ["resources_check"]},
    "spm_api.balanced_score": {"scoring models": ["balanced"]},
    **{f"spm_api.charging.{model}": {"charging models": [model]}
       for model in BUILTIN_CHARGING_MODELS},
    "spm_api.health.thresholds": {"health models": ["thresholds"]},
}

#: The example plugins installed from plugins/: entry point → distribution.
EXAMPLE_DISTRIBUTIONS = {"finance_approval": "spm-finance-approval",
                         "http_contractor": "spm-http-contractor",
                         "market_rate": "spm-market-rate",
                         "prometheus_source": "spm-prometheus-source",
                         "supermajority": "spm-supermajority"}
#: The examples that register an approval rule named after themselves.
RULE_EXAMPLES = {"finance_approval", "supermajority"}
EXAMPLES = set(EXAMPLE_DISTRIBUTIONS)
#: What each example registers, as ``plugins list --json`` shows it.
EXAMPLE_REGISTERS: dict[str, dict[str, list[str]]] = {
    **{example: {"approval rules": [example]} for example in RULE_EXAMPLES},
    "market_rate": {"charging models": ["market_rate"]},
    "http_contractor": {"contractor integrations": ["http_json"]},
    "prometheus_source": {"measurement sources": ["prometheus"]},
}


def rule(name: str) -> ApprovalRule:
    def evaluate(_ballot: Ballot, _settings: Settings) -> Verdict:
        return Verdict(ApprovalStatus.APPROVED, f"{name} approves")

    return ApprovalRule(name=name, title=name.title(), description="A test rule.",
                        evaluate=evaluate)


def plugin_names(manager: pluggy.PluginManager) -> set[str]:
    return {name for name, plugin in manager.list_name_plugin() if plugin is not None}


def with_plugin(plugin: object, name: str) -> pluggy.PluginManager:
    """The built-ins plus ``plugin``, registered as build_plugin_manager registers one."""
    manager = build_plugin_manager(frozenset())
    manager.register(plugin, name=name)
    return manager


class Misspelled:
    @hookimpl
    def spm_aproval_rules(self) -> list[ApprovalRule]:
        return [rule("never_seen")]


class WrongArgument:
    @hookimpl
    def spm_stage_changed(self, change: StageChanged) -> None:
        """The spec's argument is ``event``."""


class Returns:
    """A plugin whose ``spm_approval_rules`` returns ``result``."""

    def __init__(self, result: object) -> None:
        self.result = result

    @hookimpl
    def spm_approval_rules(self) -> object:
        return self.result


class Raises:
    @hookimpl
    def spm_approval_rules(self) -> list[ApprovalRule]:
        raise RuntimeError("cannot reach the rule catalogue")


class AsyncRules:
    """Registers its rule from a coroutine; the rule evaluates in one, too."""

    @hookimpl
    async def spm_approval_rules(self) -> list[ApprovalRule]:
        await asyncio.sleep(0)

        async def evaluate(ballot: Ballot, _settings: Settings) -> Verdict:
            await asyncio.sleep(0)
            return Verdict(ApprovalStatus.PENDING, f"{len(ballot.votes)} votes so far")

        return [ApprovalRule(name="async_rule", title="Async rule",
                             description="Registered by a coroutine.", evaluate=evaluate)]


class Everything:
    @hookimpl
    def spm_approval_rules(self) -> list[ApprovalRule]:
        return [rule("everything_rule")]

    @hookimpl
    def spm_stage_changed(self, event: StageChanged) -> None:
        """Listens, says nothing."""


def hooks_of(registers: dict[str, list[str]]) -> list[str]:
    """The hooks a plugin implements to register ``registers`` (and nothing else)."""
    return sorted(HOOK_OF[kind] for kind in registers)


def registered(registry: Mapping[str, Registered[Any]]) -> dict[str, str]:
    """Registered name → the plugin that registered it."""
    return {name: entry.plugin for name, entry in registry.items()}


def empty_ballot() -> Ballot:
    facts = ServiceFacts(id=1, organisation_id=1, name="Service Desk",
                         investment_category=InvestmentCategory.RUN,
                         estimated_cost=Decimal("1000"))
    return Ballot(service=facts, decision_makers=(), votes=())


# --- what is loaded ------------------------------------------------------------------


def test_example_plugins_are_installed() -> None:
    installed = {ep.name for ep in entry_points(group="spm_api")}
    assert installed >= EXAMPLES, (
        f"the example plugins must be installed (make install): only {sorted(installed)}")


def test_the_table_of_builtins_covers_every_builtin() -> None:
    """The expectations below are read from BUILTIN_REGISTERS: a built-in added to
    BUILTIN_PLUGINS must be added there too, with what it registers."""
    assert set(BUILTIN_REGISTERS) == set(BUILTIN_PLUGINS)
    assert MAJORITY in BUILTIN_PLUGINS


def test_no_allowed_plugins_loads_only_the_builtins() -> None:
    manager = build_plugin_manager(frozenset())
    assert plugin_names(manager) == set(BUILTIN_PLUGINS)
    for name, module in BUILTIN_PLUGINS.items():
        assert manager.get_plugin(name) is module
    assert manager.get_plugin(MAJORITY) is majority
    host = PluginHost(manager)
    try:
        assert registered(host.registry(APPROVAL_RULES)) == {
            "majority": MAJORITY, "resources_check": "spm_api.resources_check"}
        assert set(host.registry(CHARGING_MODELS)) == BUILTIN_CHARGING_MODELS
        assert registered(host.registry(CHARGING_MODELS)) == {
            model: f"spm_api.charging.{model}" for model in BUILTIN_CHARGING_MODELS}
        assert registered(host.registry(SCORING_MODELS)) == {"balanced": "spm_api.balanced_score"}
        assert host.registry(CONTRACTOR_INTEGRATIONS) == {}
    finally:
        host.close()


def test_unrestricted_loads_every_installed_plugin() -> None:
    manager = build_plugin_manager(None)
    assert plugin_names(manager) >= set(BUILTIN_PLUGINS) | EXAMPLES
    host = PluginHost(manager)
    try:
        assert host.registry(APPROVAL_RULES)["majority"].plugin == MAJORITY
        for example in RULE_EXAMPLES:  # each registers a rule named after itself
            assert host.registry(APPROVAL_RULES)[example].plugin == example
        assert host.registry(CHARGING_MODELS)["market_rate"].plugin == "market_rate"
        assert set(host.registry(CHARGING_MODELS)) >= BUILTIN_CHARGING_MODELS | {"market_rate"}
        assert host.registry(SCORING_MODELS)["balanced"].plugin == "spm_api.balanced_score"
    finally:
        host.close()


def test_allowed_plugins_load_with_the_builtins_and_no_others() -> None:
    assert plugin_names(build_plugin_manager(frozenset({"supermajority"}))) == {
        *BUILTIN_PLUGINS, "supermajority"}
    assert plugin_names(build_plugin_manager(frozenset({"market_rate", "supermajority"}))) == {
        *BUILTIN_PLUGINS, "market_rate", "supermajority"}


@pytest.mark.parametrize("allowed", [{"no_such_plugin"}, {"supermajority", "no_such_plugin"}])
def test_a_plugin_that_is_not_installed_is_refused(allowed: set[str]) -> None:
    with pytest.raises(PluginLoadError, match="no_such_plugin") as refused:
        build_plugin_manager(frozenset(allowed))
    assert "supermajority" not in str(refused.value)


# --- plugins that do not keep to the specs -------------------------------------------


def test_check_pending_catches_a_misspelled_hook() -> None:
    plugin = Misspelled()
    manager = with_plugin(plugin, "typo")
    with pytest.raises(pluggy.PluginValidationError, match="spm_aproval_rules") as caught:
        manager.check_pending()
    assert caught.value.plugin is plugin


def test_build_refuses_a_plugin_with_a_misspelled_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manager_module, "BUILTIN_PLUGINS",
                        {**BUILTIN_PLUGINS, "typo": Misspelled()})
    with pytest.raises(PluginLoadError, match="spm_aproval_rules") as refused:
        build_plugin_manager(frozenset())
    assert isinstance(refused.value.__cause__, pluggy.PluginValidationError)


def test_a_misspelled_hook_is_reported_under_the_plugin_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(manager_module, "BUILTIN_PLUGINS",
                        {**BUILTIN_PLUGINS, "typo": Misspelled()})
    with pytest.raises(PluginLoadError, match="'typo'"):
        build_plugin_manager(frozenset())


def test_build_refuses_a_hook_with_an_argument_not_in_the_spec(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(manager_module, "BUILTIN_PLUGINS",
                        {**BUILTIN_PLUGINS, "wrong_argument": WrongArgument()})
    with pytest.raises(PluginLoadError, match="wrong_argument"):
        build_plugin_manager(frozenset())


def charging_model() -> ChargingModel:
    return ChargingModel(name="flat", title="Flat", description="A test model.",
                         validate_parameters=lambda parameters: parameters,
                         charge=lambda _period, _parameters, _settings: [])


@pytest.mark.parametrize("garbage", [
    pytest.param(["not a rule"], id="a-string-in-a-list"),
    pytest.param([rule("fine"), 42], id="a-number-after-a-rule"),
    pytest.param(None, id="none"),
    pytest.param([charging_model()], id="a-charging-model"),
])
def test_registering_something_that_is_not_a_rule_is_refused(garbage: object) -> None:
    manager = with_plugin(Returns(garbage), "garbage")
    with pytest.raises(PluginLoadError, match="plugin 'garbage': spm_approval_rules returned"):
        PluginHost(manager)


def test_a_rule_name_taken_by_the_builtins_is_refused() -> None:
    manager = with_plugin(Returns([rule("majority")]), "copycat")
    with pytest.raises(PluginLoadError) as refused:
        PluginHost(manager)
    message = str(refused.value)
    assert "'copycat'" in message
    assert "'majority'" in message
    assert f"{MAJORITY!r}" in message


def test_a_rule_name_taken_by_another_plugin_is_refused() -> None:
    manager = with_plugin(Returns([rule("shared")]), "first")
    manager.register(Returns([rule("shared")]), name="second")
    with pytest.raises(PluginLoadError, match=r"plugin 'second'.*'shared'.*plugin 'first'"):
        PluginHost(manager)


def test_a_registration_hook_that_raises_is_refused_naming_the_plugin() -> None:
    with pytest.raises(PluginLoadError, match="'raiser'"):
        PluginHost(with_plugin(Raises(), "raiser"))


# --- async registration hooks ---------------------------------------------------------


def test_async_registration_hook_is_awaited_at_start_up() -> None:
    host = PluginHost(with_plugin(AsyncRules(), "async_plugin"))
    try:
        assert host.registry(APPROVAL_RULES)["async_rule"].plugin == "async_plugin"
        assert host.registry(APPROVAL_RULES)["async_rule"].item.title == "Async rule"
    finally:
        host.close()


async def test_async_registration_hook_is_awaited_inside_a_running_loop() -> None:
    host = PluginHost(with_plugin(AsyncRules(), "async_plugin"))
    try:
        assert host.registry(APPROVAL_RULES)["async_rule"].plugin == "async_plugin"
        verdict = await host.call(EVALUATE, "async_rule", empty_ballot(), {})
        assert verdict == Verdict(ApprovalStatus.PENDING, "0 votes so far")
    finally:
        host.close()


# --- describe ------------------------------------------------------------------------


def test_describe_lists_name_version_origin_and_hooks() -> None:
    manager = build_plugin_manager(None)
    manager.register(Everything(), name="everything")
    own = version("spm-api")

    infos = describe(manager)

    by_name = {info.name: info for info in infos}
    builtins = infos[:len(BUILTINS)]
    assert builtins == [PluginInfo(name, own, True, tuple(hooks_of(BUILTIN_REGISTERS[name])))
                        for name in BUILTINS]
    assert by_name[MAJORITY].hooks == ("spm_approval_rules",)
    assert by_name["spm_api.charging.tiered"].hooks == ("spm_charging_models",)
    assert by_name["spm_api.balanced_score"].hooks == ("spm_scoring_models",)
    for example, distribution in EXAMPLE_DISTRIBUTIONS.items():
        assert by_name[example] == PluginInfo(
            example, version(distribution), False,
            tuple(hooks_of(EXAMPLE_REGISTERS[example])))
    assert by_name["everything"].builtin is False
    assert by_name["everything"].hooks == ("spm_approval_rules", "spm_stage_changed")
    others = [info.name for info in infos[len(BUILTINS):]]
    assert others == sorted({*EXAMPLES, "everything"})
    host = PluginHost(manager)
    try:
        assert host.describe() == infos
    finally:
        host.close()


# --- spm-api plugins list --------------------------------------------------------------


def spm_api(tmp_path: Path, *arguments: str, plugins: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a separate process; ``plugins`` None leaves SPM_PLUGINS unset."""
    env = {key: value for key, value in os.environ.items() if key != "SPM_PLUGINS"}
    if plugins is not None:
        env["SPM_PLUGINS"] = plugins
    return subprocess.run([sys.executable, "-m", "spm_api.cli", *arguments], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          check=False)


def listed(tmp_path: Path, plugins: str | None = None) -> list[dict[str, Any]]:
    result = spm_api(tmp_path, "plugins", "list", "--json", plugins=plugins)
    assert result.returncode == 0, result.stderr
    entries: list[dict[str, Any]] = json.loads(result.stdout)
    return entries


def block(name: str, plugin_version: str, origin: str, registers: dict[str, list[str]]
          ) -> list[str]:
    """The lines ``plugins list`` prints for one plugin."""
    return [f"{name} {plugin_version} ({origin})",
            f"  hooks: {', '.join(hooks_of(registers))}",
            *(f"  {kind}: {', '.join(names)}" for kind, names in registers.items())]


def details(lines: list[str], header: str) -> list[str]:
    """The indented lines ``plugins list`` prints under ``header``."""
    start = lines.index(header) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("  ")),
               len(lines))
    return lines[start:end]


def test_plugins_list_shows_the_builtins_and_the_installed_plugins(tmp_path: Path) -> None:
    result = spm_api(tmp_path, "plugins", "list")
    assert result.returncode == 0, result.stderr
    own = version("spm-api")
    expected = [line for name in BUILTINS
                for line in block(name, own, "built-in", BUILTIN_REGISTERS[name])]
    expected += [line for name in sorted(EXAMPLES)
                 for line in block(name, version(EXAMPLE_DISTRIBUTIONS[name]), "installed",
                                   EXAMPLE_REGISTERS[name])]
    assert result.stdout.splitlines() == expected
    assert details(expected, f"market_rate {version('spm-market-rate')} (installed)") == [
        "  hooks: spm_charging_models", "  charging models: market_rate"]


def test_plugins_list_shows_the_scoring_models(tmp_path: Path) -> None:
    result = spm_api(tmp_path, "plugins", "list", plugins="")
    assert result.returncode == 0, result.stderr
    header = f"spm_api.balanced_score {version('spm-api')} (built-in)"
    assert details(result.stdout.splitlines(), header) == [
        "  hooks: spm_scoring_models", "  scoring models: balanced"]


def test_plugins_list_json(tmp_path: Path) -> None:
    entries = listed(tmp_path)
    assert [entry["name"] for entry in entries] == [*BUILTINS, *sorted(EXAMPLES)]
    own = version("spm-api")
    for entry in entries[:len(BUILTINS)]:
        registers = BUILTIN_REGISTERS[entry["name"]]
        assert entry == {"name": entry["name"], "version": own, "builtin": True,
                         "hooks": hooks_of(registers), "registers": registers}
    for entry in entries[len(BUILTINS):]:
        registers = EXAMPLE_REGISTERS[entry["name"]]
        assert entry == {"name": entry["name"],
                         "version": version(EXAMPLE_DISTRIBUTIONS[entry["name"]]),
                         "builtin": False, "hooks": hooks_of(registers),
                         "registers": registers}
    by_name = {entry["name"]: entry for entry in entries}
    assert by_name["spm_api.balanced_score"]["registers"] == {"scoring models": ["balanced"]}
    assert by_name["market_rate"]["registers"] == {"charging models": ["market_rate"]}


def test_plugins_list_with_none_allowed_shows_only_the_builtins(tmp_path: Path) -> None:
    assert [entry["name"] for entry in listed(tmp_path, plugins="")] == BUILTINS


def test_plugins_list_with_one_allowed(tmp_path: Path) -> None:
    names = [entry["name"] for entry in listed(tmp_path, plugins=" supermajority ")]
    assert names == [*BUILTINS, "supermajority"]


def test_plugins_list_with_an_unknown_plugin_fails_clearly(tmp_path: Path) -> None:
    result = spm_api(tmp_path, "plugins", "list", plugins="nope")
    assert result.returncode == 2
    assert "error [PLUGIN_ERROR]" in result.stderr
    assert "nope" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
