"""Loading plugins: built-ins always, installed ones as ``SPM_PLUGINS`` allows, and a
plugin that does not keep to the hook specs stops the start with an error naming it.
Also what ``spm-api plugins list`` shows."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
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
from spm_api.plugins.builtin import BUILTIN_PLUGINS, majority
from spm_api.plugins.host import PluginHost
from spm_api.plugins.manager import PluginInfo, PluginLoadError, build_plugin_manager, describe

BUILTIN = "spm_api.majority"
EXAMPLES = {"supermajority", "finance_approval"}
EXAMPLE_DISTRIBUTIONS = {"supermajority": "spm-supermajority",
                         "finance_approval": "spm-finance-approval"}


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


def test_no_allowed_plugins_loads_only_the_builtins() -> None:
    manager = build_plugin_manager(frozenset())
    assert plugin_names(manager) == {BUILTIN}
    assert manager.get_plugin(BUILTIN) is majority
    host = PluginHost(manager)
    try:
        assert {name: r.plugin for name, r in host.approval_rules.items()} == {
            "majority": BUILTIN}
        assert host.charging_models == {}
        assert host.contractor_integrations == {}
    finally:
        host.close()


def test_unrestricted_loads_every_installed_plugin() -> None:
    manager = build_plugin_manager(None)
    assert plugin_names(manager) >= {BUILTIN, *EXAMPLES}
    host = PluginHost(manager)
    try:
        assert {"majority", *EXAMPLES} <= set(host.approval_rules)
        assert host.approval_rules["majority"].plugin == BUILTIN
        for example in EXAMPLES:  # each example registers a rule named after itself
            assert host.approval_rules[example].plugin == example
    finally:
        host.close()


def test_allowed_plugins_load_with_the_builtins_and_no_others() -> None:
    assert plugin_names(build_plugin_manager(frozenset({"supermajority"}))) == {
        BUILTIN, "supermajority"}


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
    assert f"{BUILTIN!r}" in message


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
        assert host.approval_rules["async_rule"].plugin == "async_plugin"
        assert host.approval_rules["async_rule"].item.title == "Async rule"
    finally:
        host.close()


async def test_async_registration_hook_is_awaited_inside_a_running_loop() -> None:
    host = PluginHost(with_plugin(AsyncRules(), "async_plugin"))
    try:
        assert host.approval_rules["async_rule"].plugin == "async_plugin"
        verdict = await host.evaluate_rule("async_rule", empty_ballot(), {})
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
    assert infos[0] == PluginInfo(BUILTIN, own, True, ("spm_approval_rules",))
    for example, distribution in EXAMPLE_DISTRIBUTIONS.items():
        assert by_name[example] == PluginInfo(example, version(distribution), False,
                                              ("spm_approval_rules",))
    assert by_name["everything"].builtin is False
    assert by_name["everything"].hooks == ("spm_approval_rules", "spm_stage_changed")
    assert [info.name for info in infos[1:]] == sorted(info.name for info in infos[1:])
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


def test_plugins_list_shows_the_builtin_and_the_installed_plugins(tmp_path: Path) -> None:
    result = spm_api(tmp_path, "plugins", "list")
    assert result.returncode == 0, result.stderr
    own = version("spm-api")
    assert result.stdout.splitlines() == [
        f"{BUILTIN} {own} (built-in)",
        "  hooks: spm_approval_rules",
        "  approval rules: majority",
        f"finance_approval {version('spm-finance-approval')} (installed)",
        "  hooks: spm_approval_rules",
        "  approval rules: finance_approval",
        f"supermajority {version('spm-supermajority')} (installed)",
        "  hooks: spm_approval_rules",
        "  approval rules: supermajority",
    ]


def test_plugins_list_json(tmp_path: Path) -> None:
    entries = listed(tmp_path)
    assert [entry["name"] for entry in entries] == [BUILTIN, "finance_approval", "supermajority"]
    assert entries[0] == {"name": BUILTIN, "version": version("spm-api"), "builtin": True,
                          "hooks": ["spm_approval_rules"],
                          "registers": {"approval rules": ["majority"]}}
    for entry in entries[1:]:
        assert entry == {"name": entry["name"],
                         "version": version(EXAMPLE_DISTRIBUTIONS[entry["name"]]),
                         "builtin": False, "hooks": ["spm_approval_rules"],
                         "registers": {"approval rules": [entry["name"]]}}


def test_plugins_list_with_none_allowed_shows_only_the_builtin(tmp_path: Path) -> None:
    assert [entry["name"] for entry in listed(tmp_path, plugins="")] == [BUILTIN]


def test_plugins_list_with_one_allowed(tmp_path: Path) -> None:
    names = [entry["name"] for entry in listed(tmp_path, plugins=" supermajority ")]
    assert names == [BUILTIN, "supermajority"]


def test_plugins_list_with_an_unknown_plugin_fails_clearly(tmp_path: Path) -> None:
    result = spm_api(tmp_path, "plugins", "list", plugins="nope")
    assert result.returncode == 2
    assert "error [PLUGIN_ERROR]" in result.stderr
    assert "nope" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
