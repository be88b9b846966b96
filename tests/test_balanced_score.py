"""The built-in balanced scoring model, with worked numbers: value for money, investment
category and stakeholder support, weighted; weights from the organisation's settings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from spm_api.plugins.builtin import BUILTIN_PLUGINS
from spm_api.plugins.builtin.finance import balanced_score
from spm_api.plugins.builtin.finance.balanced_score import Weights, parse_settings, score
from spm_api.plugins.contracts import (
    SCORE,
    SCORING_MODELS,
    PluginSettingsError,
    Score,
    ServiceFacts,
    Support,
)
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import InvestmentCategory
from spm_api.vocabulary.errors import DomainError, ErrorCode

D = Decimal
GROW, RUN, TRANSFORM = (InvestmentCategory.GROW, InvestmentCategory.RUN,
                        InvestmentCategory.TRANSFORM)


def facts(cost: str | None, benefit: str | None,
          category: InvestmentCategory = GROW) -> ServiceFacts:
    return ServiceFacts(id=1, organisation_id=1, name="Data Platform",
                        investment_category=category,
                        estimated_cost=None if cost is None else D(cost),
                        expected_benefit=None if benefit is None else D(benefit))


#: Benefit 20000 on a cost of 10000, GROW, 3 supporters and 1 concern of 4 inputs.
WORKED = facts("10000", "20000")
WORKED_SUPPORT = Support(support=3, concern=1)


def test_registered_as_its_own_builtin_plugin(plugins: PluginHost) -> None:
    assert BUILTIN_PLUGINS["spm_api.balanced_score"] is balanced_score
    assert plugins.registry(SCORING_MODELS)["balanced"].plugin == "spm_api.balanced_score"


def test_a_worked_score() -> None:
    # benefit/cost = 20000 / 10000 = 2 → 2 / 3 = 0.6667; GROW → 0.7;
    # support: (3 - 0 - 0.5 * 1) / 4 = 0.625 → (0.625 + 1) / 2 = 0.8125;
    # 100 * (0.5 * 0.6667 + 0.2 * 0.7 + 0.3 * 0.8125) = 33.333 + 14 + 24.375 = 71.708 → 71.71.
    result = score(WORKED, WORKED_SUPPORT, {})
    assert result == Score(
        D("71.71"), "benefit/cost 2.00 (0.67), GROW (0.70), support 3 of 4 inputs (0.81)")
    assert result.value.as_tuple().exponent == -2


@pytest.mark.parametrize(("service", "support", "value", "explanation"), [
    # ratio 4 is capped at 3 → 1; TRANSFORM 1; no inputs 0.5:
    # 100 * (0.5 + 0.2 + 0.15) = 85.00.
    (facts("1000", "4000", TRANSFORM), Support(), "85.00",
     "benefit/cost 4.00 (1.00), TRANSFORM (1.00), no stakeholder inputs (0.50)"),
    # no benefit known → 0; RUN 0.4; 2 of 2 oppose → (-1 + 1) / 2 = 0:
    # 100 * (0 + 0.08 + 0) = 8.00.
    (facts("1000", None, RUN), Support(oppose=2), "8.00",
     "benefit/cost unknown (0.00), RUN (0.40), support 0 of 2 inputs (0.00)"),
    # a benefit at no cost → 1; GROW 0.7; 4 concerns → (-0.5 + 1) / 2 = 0.25:
    # 100 * (0.5 + 0.14 + 0.075) = 71.50.
    (facts("0", "100"), Support(concern=4), "71.50",
     "benefit at no cost (1.00), GROW (0.70), support 0 of 4 inputs (0.25)"),
    # benefit/cost 0.5 → 0.1667; RUN 0.4; 1 support, 1 neutral → (0.5 + 1) / 2 = 0.75:
    # 100 * (0.08333 + 0.08 + 0.225) = 38.833 → 38.83.
    (facts("2000", "1000", RUN), Support(support=1, neutral=1), "38.83",
     "benefit/cost 0.50 (0.17), RUN (0.40), support 1 of 2 inputs (0.75)"),
    # a loss (negative benefit) counts as no benefit, not below it: 100 * (0 + 0.14 + 0.15).
    (facts("1000", "-500"), Support(), "29.00",
     "benefit/cost -0.50 (0.00), GROW (0.70), no stakeholder inputs (0.50)"),
])
def test_more_worked_scores(service: ServiceFacts, support: Support, value: str,
                            explanation: str) -> None:
    assert score(service, support, {}) == Score(D(value), explanation)


@pytest.mark.parametrize(("weights", "value"), [
    # 100 * (0.6 * 0.6667 + 0.1 * 0.7 + 0.3 * 0.8125) = 40 + 7 + 24.375 = 71.375 → 71.38.
    ({"benefit": "0.6", "category": "0.1", "support": "0.3"}, "71.38"),
    # Weights are relative: 1, 1, 0 → 100 * (0.6667 + 0.7) / 2 = 68.333 → 68.33.
    ({"benefit": 1, "category": 1, "support": 0}, "68.33"),
    # Only support set, to 0; the others keep 0.5 and 0.2:
    # 100 * (0.5 * 0.6667 + 0.2 * 0.7) / 0.7 = 47.333 / 0.7 = 67.619 → 67.62.
    ({"support": "0"}, "67.62"),
])
def test_weights_come_from_the_settings(weights: dict[str, Any], value: str) -> None:
    assert score(WORKED, WORKED_SUPPORT, {"weights": weights}).value == D(value)


def test_default_weights() -> None:
    assert parse_settings({}) == parse_settings({"weights": None}) == Weights(
        D("0.5"), D("0.2"), D("0.3"))


@pytest.mark.parametrize(("settings", "message"), [
    ({"weight": {}}, "unknown setting 'weight': the balanced score reads only weights"),
    ({"weights": [1, 2, 3]}, "weights must be an object"),
    ({"weights": {"cost": "1"}}, "unknown weight 'cost'"),
    ({"weights": {"benefit": "high"}}, "the benefit weight must be a number, not 'high'"),
    ({"weights": {"support": True}}, "the support weight must be a number, not True"),
    ({"weights": {"category": "-0.1"}}, "the category weight must be zero or more"),
    ({"weights": {"benefit": 0, "category": "0", "support": "0.00"}}, "the weights add up to 0"),
])
def test_bad_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(PluginSettingsError) as refused:
        balanced_score.validate_settings(settings)
    assert message in str(refused.value)


def test_bad_settings_through_the_host_are_a_validation_error(plugins: PluginHost) -> None:
    plugins.validate_settings("spm_api.balanced_score", {"weights": {"benefit": "0.6"}})
    with pytest.raises(DomainError) as refused:
        plugins.validate_settings("spm_api.balanced_score", {"weights": {"benefit": "-1"}})
    [problem] = refused.value.problems
    assert problem.code is ErrorCode.VALIDATION
    assert "the benefit weight must be zero or more" in problem.message


async def test_through_the_host(plugins: PluginHost) -> None:
    result = await plugins.call(SCORE, "balanced", WORKED, WORKED_SUPPORT, {})
    assert result.value == D("71.71")
