"""``SPM_TRACE_PLUGINS``: with it on, every call into a plugin is one INFO line on the
``spm_api.plugins`` logger (plugin, hook, duration, outcome); with it off, none."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest

from spm_api.plugins import ServiceFacts, Support
from spm_api.plugins.contracts import SCORE, VALIDATE_PARAMETERS
from spm_api.plugins.host import PluginHost
from spm_api.settings import Settings
from spm_api.vocabulary.enums import InvestmentCategory
from spm_api.vocabulary.errors import DomainError

SERVICE = ServiceFacts(id=1, organisation_id=1, name="CRM", currency="EUR",
                       investment_category=InvestmentCategory.GROW,
                       estimated_cost=Decimal(1000), expected_benefit=Decimal(2000))
LINE = re.compile(r"plugin call: plugin='(?P<plugin>[^']+)' hook=(?P<hook>\S+) "
                  r"duration_ms=(?P<ms>\d+\.\d) outcome=(?P<outcome>.+)")


def traced(caplog: pytest.LogCaptureFixture) -> list[dict[str, str]]:
    return [match.groupdict() for record in caplog.records
            if record.name == "spm_api.plugins" and record.levelno == logging.INFO
            and (match := LINE.fullmatch(record.getMessage()))]


@pytest.fixture
def tracing(monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginHost]:
    """The built-ins, loaded as a server started with SPM_TRACE_PLUGINS=true loads them."""
    monkeypatch.setenv("SPM_TRACE_PLUGINS", "true")
    settings = Settings(plugins="")
    assert settings.trace_plugins is True
    host = PluginHost.from_settings(settings)
    yield host
    host.close()


async def test_a_hook_call_is_logged_with_plugin_hook_duration_and_outcome(
        tracing: PluginHost, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="spm_api.plugins"):
        score = await tracing.call(SCORE, "balanced", SERVICE, Support(support=2), {})
    assert score.value > 0
    [line] = traced(caplog)
    assert line["plugin"] == "spm_api.balanced_score"
    assert line["hook"] == "spm_scoring_models.score"
    assert line["outcome"] == "ok"
    assert float(line["ms"]) >= 0


async def test_a_failing_call_is_logged_with_how_it_failed(
        tracing: PluginHost, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="spm_api.plugins"), pytest.raises(DomainError):
        tracing.check(VALIDATE_PARAMETERS, "cost_plus", {"markup_percent": "lots"})
    [line] = traced(caplog)
    assert (line["plugin"], line["hook"], line["outcome"]) == (
        "spm_api.charging.cost_plus", "spm_charging_models.validate_parameters",
        "refused the input")


def test_registration_hooks_are_traced_at_start_up(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("SPM_TRACE_PLUGINS", "1")
    with caplog.at_level(logging.INFO, logger="spm_api.plugins"):
        host = PluginHost.from_settings(Settings(plugins=""))
    host.close()
    assert {"plugin": "spm_api.majority", "hook": "spm_approval_rules",
            "outcome": "ok"}.items() <= next(
        line for line in traced(caplog) if line["plugin"] == "spm_api.majority").items()


async def test_off_by_default_nothing_is_logged(
        plugins: PluginHost, caplog: pytest.LogCaptureFixture) -> None:
    assert Settings().trace_plugins is False
    with caplog.at_level(logging.DEBUG, logger="spm_api.plugins"):
        await plugins.call(SCORE, "balanced", SERVICE, Support(), {})
        with pytest.raises(DomainError):
            plugins.check(VALIDATE_PARAMETERS, "cost_plus", {"markup_percent": "lots"})
    assert [record for record in caplog.records if record.name == "spm_api.plugins"] == []
