"""Each family's default is the one item registered with ``default=True``: the built-ins
carry them, a second default or a missing one stops the start naming the plugins, and
what an organisation that chose nothing gets is unchanged."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pluggy
import pytest

from spm_api.domain.approvals import rounds as approval
from spm_api.domain.finance import charging, ranking
from spm_api.domain.finance.charging import DEFAULT_MODEL
from spm_api.plugins import (
    ApprovalRule,
    ApprovalStatus,
    Ballot,
    Charge,
    ChargingModel,
    ChargingPeriod,
    Score,
    ScoringModel,
    ServiceFacts,
    Settings,
    Support,
    Verdict,
    hookimpl,
    hookspecs,
)
from spm_api.plugins.builtin import BUILTIN_PLUGINS
from spm_api.plugins.contracts import APPROVAL_RULES, CHARGING_MODELS, SCORING_MODELS
from spm_api.plugins.family import Family
from spm_api.plugins.host import PluginHost
from spm_api.plugins.manager import PluginLoadError, build_plugin_manager
from spm_api.plugins.registry import builtin_default


def approve(_ballot: Ballot, _settings: Settings) -> Verdict:
    return Verdict(ApprovalStatus.APPROVED, "always")


class RivalDefaultRule:
    """A plugin that also claims to be the default approval rule."""

    @hookimpl
    def spm_approval_rules(self) -> list[ApprovalRule]:
        return [ApprovalRule(name="rubber_stamp", title="Rubber stamp", description="",
                             evaluate=approve, default=True)]


class OrdinaryRule:
    @hookimpl
    def spm_approval_rules(self) -> list[ApprovalRule]:
        return [ApprovalRule(name="rubber_stamp", title="Rubber stamp", description="",
                             evaluate=approve)]


def no_charges(_period: ChargingPeriod, _parameters: Settings, _settings: Settings
               ) -> list[Charge]:
    return []


class FlatModelOnly:
    """Registers a charging model, none of them the default."""

    @hookimpl
    def spm_charging_models(self) -> list[ChargingModel]:
        return [ChargingModel(name="flat", title="Flat", description="",
                              validate_parameters=dict, charge=no_charges)]


class TwoDefaultScores:
    @hookimpl
    def spm_scoring_models(self) -> list[ScoringModel]:
        def zero(_service: ServiceFacts, _support: Support, _settings: Settings) -> Score:
            return Score(Decimal(0), "nothing")

        return [ScoringModel(name=name, title=name, description="", score=zero, default=True)
                for name in ("first", "second")]


#: The families the core needs a default of.
DEFAULTED: tuple[Family[Any], ...] = (APPROVAL_RULES, CHARGING_MODELS, SCORING_MODELS)


def with_plugin(plugin: object, name: str) -> pluggy.PluginManager:
    manager = build_plugin_manager(frozenset())
    manager.register(plugin, name=name)
    return manager


def test_the_builtins_carry_one_default_per_family(plugins: PluginHost) -> None:
    defaults = {family.noun: plugins.registry(family).default for family in DEFAULTED}
    assert {noun: (registered.item.name, registered.plugin)
            for noun, registered in defaults.items() if registered is not None} == {
        "approval rule": ("majority", "spm_api.majority"),
        "charging model": ("none", "spm_api.charging.none"),
        "scoring model": ("balanced", "spm_api.balanced_score"),
    }


def test_what_the_core_falls_back_on_is_the_registered_default(plugins: PluginHost) -> None:
    """An organisation that chose no rule, a service without a charging policy and a
    ranking that names no model get what they always got."""
    assert approval.DEFAULT_RULES == ("majority",)
    assert charging.DEFAULT_MODEL == DEFAULT_MODEL == "none"
    assert ranking.DEFAULT_SCORING_MODEL == "balanced"
    for family in DEFAULTED:
        default = plugins.registry(family).default
        assert default is not None
        assert builtin_default(family) == default.item.name


def test_a_family_without_a_required_default_has_none(plugins: PluginHost) -> None:
    from spm_api.plugins.contracts import CONTRACTOR_INTEGRATIONS

    assert plugins.registry(CONTRACTOR_INTEGRATIONS).default is None


def test_a_plugin_that_is_not_the_default_loads() -> None:
    host = PluginHost(with_plugin(OrdinaryRule(), "stamps"))
    try:
        rules = host.registry(APPROVAL_RULES)
        assert rules["rubber_stamp"].plugin == "stamps"
        assert rules.default is not None and rules.default.item.name == "majority"
    finally:
        host.close()


def test_a_second_default_stops_the_start_naming_both_plugins() -> None:
    manager = with_plugin(RivalDefaultRule(), "rival")
    with pytest.raises(PluginLoadError) as refused:
        PluginHost(manager)
    assert str(refused.value) == (
        "2 approval rules are marked default: 'majority' (plugin 'spm_api.majority'), "
        "'rubber_stamp' (plugin 'rival'); exactly one may be, so only one of these "
        "plugins can be loaded")


def test_two_defaults_from_one_plugin_are_refused_too() -> None:
    with pytest.raises(PluginLoadError, match=r"3 scoring models are marked default: "
                       r"'balanced' \(plugin 'spm_api.balanced_score'\), 'first' \(plugin "
                       r"'scores'\), 'second' \(plugin 'scores'\)"):
        PluginHost(with_plugin(TwoDefaultScores(), "scores"))


def test_no_default_where_one_is_needed_stops_the_start_naming_what_is_registered() -> None:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for name in ("spm_api.majority", "spm_api.balanced_score"):
        manager.register(BUILTIN_PLUGINS[name], name=name)
    manager.register(FlatModelOnly(), name="flat_only")
    with pytest.raises(PluginLoadError) as refused:
        PluginHost(manager)
    assert str(refused.value) == (
        "no charging model is marked default, and one must be: the core falls back on it; "
        "registered: 'flat' (plugin 'flat_only')")


def test_no_registrations_at_all_is_named_too() -> None:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    with pytest.raises(PluginLoadError, match=r"no approval rule is marked default.*"
                                              r"registered: nothing"):
        PluginHost(manager)
