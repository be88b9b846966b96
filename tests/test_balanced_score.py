"""The built-in balanced scoring model, with worked numbers: value for money, investment
category and stakeholder support, weighted; weights from the organisation's settings."""

from __future__ import annotations

from dataclasses import replace
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


#: The five default weights add up to 0.5 + 0.2 + 0.3 + 0.2 + 0.3 = 1.5. Without risks the
#: risk part is 1 and without alignment the alignment part 0, so such a score is
#: 100 * (0.5 * benefit + 0.2 * category + 0.3 * support + 0.2) / 1.5.
NO_STRATEGY = ", no open risks (1.00), not aligned to an objective (0.00)"


def test_a_worked_score() -> None:
    # benefit/cost = 20000 / 10000 = 2 → 2 / 3 = 0.6667; GROW → 0.7;
    # support: (3 - 0 - 0.5 * 1) / 4 = 0.625 → (0.625 + 1) / 2 = 0.8125; no risks → 1;
    # not aligned → 0: 100 * (0.5 * 0.6667 + 0.2 * 0.7 + 0.3 * 0.8125 + 0.2 * 1 + 0.3 * 0)
    # / 1.5 = (33.333 + 14 + 24.375 + 20) / 1.5 = 91.708 / 1.5 = 61.139 → 61.14.
    result = score(WORKED, WORKED_SUPPORT, {})
    assert (result.value, result.explanation) == (
        D("61.14"), "benefit/cost 2.00 (0.67), GROW (0.70), support 3 of 4 inputs (0.81)"
        + NO_STRATEGY)
    assert result.value.as_tuple().exponent == -2
    # Each factor's points: 100 * weight * part / 1.5, rounded half-up to two places.
    assert [(f.name, f.part, f.weight, f.contribution) for f in result.factors] == [
        ("benefit", D("0.6667"), D("0.5"), D("22.22")),
        ("category", D("0.7000"), D("0.2"), D("9.33")),
        ("support", D("0.8125"), D("0.3"), D("16.25")),
        ("risk", D("1.0000"), D("0.2"), D("13.33")),
        ("alignment", D("0.0000"), D("0.3"), D("0.00")),
    ]


def test_risk_and_alignment_in_the_score() -> None:
    # Two risks of exposure 6 and 4 → 10: 1 - 10 / 25 = 0.6; aligned with 0.5 + 0.3 = 0.8:
    # 100 * (0.717083 + 0.2 * 0.6 + 0.3 * 0.8) / 1.5 = 107.708 / 1.5 = 71.806 → 71.81.
    strategic = replace(WORKED, risk_exposure=10, open_risks=2, highest_risk_exposure=6,
                        alignment=D("0.8"), objectives=("Cloud first", "Self service"))
    result = score(strategic, WORKED_SUPPORT, {})
    assert result.value == D("71.81")
    assert result.explanation.endswith(
        "risk exposure 10 of 2 risks (0.60), aligned to 2 objectives, weight 0.80 (0.80)")
    # Exposure beyond 25 counts as 25 (part 0) and alignment beyond 1 as 1:
    # 100 * (0.717083 + 0 + 0.3) / 1.5 = 67.806 → 67.81.
    extreme = replace(strategic, risk_exposure=40, alignment=D("1.5"))
    assert score(extreme, WORKED_SUPPORT, {}).value == D("67.81")
    # More risk ranks lower, more alignment higher, everything else equal.
    assert score(replace(strategic, risk_exposure=20), WORKED_SUPPORT, {}).value < (
        result.value)
    assert score(replace(strategic, alignment=D("0.9")), WORKED_SUPPORT, {}).value > (
        result.value)


@pytest.mark.parametrize(("service", "support", "value", "explanation"), [
    # ratio 4 is capped at 3 → 1; TRANSFORM 1; no inputs 0.5:
    # 100 * (0.5 + 0.2 + 0.15 + 0.2) / 1.5 = 105 / 1.5 = 70.00.
    (facts("1000", "4000", TRANSFORM), Support(), "70.00",
     "benefit/cost 4.00 (1.00), TRANSFORM (1.00), no stakeholder inputs (0.50)"),
    # no benefit known → 0; RUN 0.4; 2 of 2 oppose → (-1 + 1) / 2 = 0:
    # 100 * (0 + 0.08 + 0 + 0.2) / 1.5 = 28 / 1.5 = 18.667 → 18.67.
    (facts("1000", None, RUN), Support(oppose=2), "18.67",
     "benefit/cost unknown (0.00), RUN (0.40), support 0 of 2 inputs (0.00)"),
    # a benefit at no cost → 1; GROW 0.7; 4 concerns → (-0.5 + 1) / 2 = 0.25:
    # 100 * (0.5 + 0.14 + 0.075 + 0.2) / 1.5 = 91.5 / 1.5 = 61.00.
    (facts("0", "100"), Support(concern=4), "61.00",
     "benefit at no cost (1.00), GROW (0.70), support 0 of 4 inputs (0.25)"),
    # benefit/cost 0.5 → 0.1667; RUN 0.4; 1 support, 1 neutral → (0.5 + 1) / 2 = 0.75:
    # 100 * (0.08333 + 0.08 + 0.225 + 0.2) / 1.5 = 58.833 / 1.5 = 39.222 → 39.22.
    (facts("2000", "1000", RUN), Support(support=1, neutral=1), "39.22",
     "benefit/cost 0.50 (0.17), RUN (0.40), support 1 of 2 inputs (0.75)"),
    # a loss (negative benefit) counts as no benefit, not below it:
    # 100 * (0 + 0.14 + 0.15 + 0.2) / 1.5 = 49 / 1.5 = 32.667 → 32.67.
    (facts("1000", "-500"), Support(), "32.67",
     "benefit/cost -0.50 (0.00), GROW (0.70), no stakeholder inputs (0.50)"),
])
def test_more_worked_scores(service: ServiceFacts, support: Support, value: str,
                            explanation: str) -> None:
    result = score(service, support, {})
    assert (result.value, result.explanation) == (D(value), explanation + NO_STRATEGY)


OFF = {"risk": "0", "alignment": "0"}


@pytest.mark.parametrize(("weights", "value"), [
    # Risk and alignment weighted 0: 100 * (0.6 * 0.6667 + 0.1 * 0.7 + 0.3 * 0.8125)
    # = 40 + 7 + 24.375 = 71.375 → 71.38.
    ({"benefit": "0.6", "category": "0.1", "support": "0.3", **OFF}, "71.38"),
    # Weights are relative: 1, 1, 0 → 100 * (0.6667 + 0.7) / 2 = 68.333 → 68.33.
    ({"benefit": 1, "category": 1, "support": 0, **OFF}, "68.33"),
    # Only support set, to 0; the others keep 0.5, 0.2, 0.2 and 0.3:
    # 100 * (0.5 * 0.6667 + 0.2 * 0.7 + 0.2 * 1 + 0) / 1.2 = 67.333 / 1.2 = 56.111 → 56.11.
    ({"support": "0"}, "56.11"),
    # Only risk: no open risks → 1, so the score is 100.
    ({"benefit": 0, "category": 0, "support": 0, "alignment": 0, "risk": 1}, "100.00"),
])
def test_weights_come_from_the_settings(weights: dict[str, Any], value: str) -> None:
    assert score(WORKED, WORKED_SUPPORT, {"weights": weights}).value == D(value)


def test_default_weights() -> None:
    assert parse_settings({}) == parse_settings({"weights": None}) == Weights(
        D("0.5"), D("0.2"), D("0.3"), D("0.2"), D("0.3"))


@pytest.mark.parametrize(("settings", "message"), [
    ({"weight": {}}, "unknown setting 'weight': the balanced score reads only weights"),
    ({"weights": [1, 2, 3]}, "weights must be an object"),
    ({"weights": {"cost": "1"}}, "unknown weight 'cost'"),
    ({"weights": {"benefit": "high"}}, "the benefit weight must be a number, not 'high'"),
    ({"weights": {"support": True}}, "the support weight must be a number, not True"),
    ({"weights": {"category": "-0.1"}}, "the category weight must be zero or more"),
    ({"weights": {"benefit": 0, "category": "0", "support": "0.00", "risk": 0,
                  "alignment": 0}}, "the weights add up to 0"),
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
    assert result.value == D("61.14")
