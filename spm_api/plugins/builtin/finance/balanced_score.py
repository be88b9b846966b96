"""The default scoring model, ``balanced``: ranks pipeline services on value for money,
strategic category, stakeholder support, risk and strategic alignment together, so no
single one of them decides.

Score = 100 * (w_benefit*benefit + w_category*category + w_support*support + w_risk*risk
+ w_alignment*alignment) / sum(w), each part between 0 and 1. The weights (default 0.5,
0.2, 0.3, 0.2, 0.3) are relative: an organisation may set them in its settings for the
plugin, ``{"weights": {"benefit": "0.6", ...}}``; those it leaves out keep the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from spm_api.plugins.contracts import (
    Factor,
    PluginSettingsError,
    Score,
    ScoringModel,
    ServiceFacts,
    Settings,
    Support,
)
from spm_api.plugins.markers import hookimpl
from spm_api.plugins.settings import an_object, decimal_number, refuse_unknown
from spm_api.vocabulary.enums import InvestmentCategory

MODEL_NAME = "balanced"

#: Above this benefit/cost ratio a service gains no more: a far-fetched business case
#: cannot outrank everything else on its own.
RATIO_CAP = Decimal(3)
CATEGORY_PART = {
    InvestmentCategory.TRANSFORM: Decimal("1.0"),
    InvestmentCategory.GROW: Decimal("0.7"),
    InvestmentCategory.RUN: Decimal("0.4"),
}
#: The exposure at which the risk part reaches 0: one risk certain (5) and severe (5),
#: or any mix adding up to as much.
RISK_CAP = 25
HUNDREDTH = Decimal("0.01")
ZERO, ONE = Decimal(0), Decimal(1)


@dataclass(frozen=True, slots=True)
class Weights:
    benefit: Decimal = Decimal("0.5")
    category: Decimal = Decimal("0.2")
    support: Decimal = Decimal("0.3")
    risk: Decimal = Decimal("0.2")
    alignment: Decimal = Decimal("0.3")

    def total(self) -> Decimal:
        return sum((getattr(self, name) for name in WEIGHT_NAMES), ZERO)


WEIGHT_NAMES = ("benefit", "category", "support", "risk", "alignment")


def parse_settings(settings: Settings) -> Weights:
    """The weights, defaults filling in those not set; unknown keys, non-numbers,
    negatives and weights adding up to nothing are refused."""
    settings = an_object(settings, "the balanced score settings")
    refuse_unknown(settings, ("weights",), reader="the balanced score")
    raw = settings.get("weights")
    if raw is None:
        return Weights()
    if not isinstance(raw, Mapping):
        raise PluginSettingsError(
            f'weights must be an object like {{"benefit": "0.5", "category": "0.2", '
            f'"support": "0.3"}}, not {raw!r}')
    refuse_unknown(raw, WEIGHT_NAMES, reader="the balanced score", kind="weight")
    defaults = Weights()
    weights = Weights(*(
        getattr(defaults, name) if raw.get(name) is None
        else decimal_number(raw[name], f"the {name} weight")
        for name in WEIGHT_NAMES))
    if weights.total() == 0:
        raise PluginSettingsError("the weights add up to 0: at least one must be more than 0")
    return weights


def validate_settings(settings: Settings) -> None:
    parse_settings(settings)


def benefit_part(service: ServiceFacts) -> tuple[Decimal, str]:
    """Value for money: the benefit/cost ratio, capped, as a fraction of the cap."""
    benefit, cost = service.expected_benefit, service.estimated_cost
    if benefit is None or cost is None:
        return ZERO, "benefit/cost unknown"
    if cost == 0:
        return (ONE, "benefit at no cost") if benefit > 0 else (ZERO, "no benefit, no cost")
    if cost < 0:
        return ZERO, "benefit/cost unknown (negative cost)"
    ratio = benefit / cost
    part = max(ZERO, min(ratio, RATIO_CAP) / RATIO_CAP)
    return part, f"benefit/cost {_two_places(ratio)}"


def support_part(support: Support) -> tuple[Decimal, str]:
    """Net support per input, from -1 (all oppose) to +1 (all support), scaled to 0..1;
    a concern counts half an objection. No inputs is neither for nor against."""
    if support.total == 0:
        return Decimal("0.5"), "no stakeholder inputs"
    net = (support.support - support.oppose - Decimal("0.5") * support.concern) / support.total
    part = min(ONE, max(ZERO, (net + 1) / 2))
    return part, f"support {support.support} of {support.total} inputs"


def risk_part(service: ServiceFacts) -> tuple[Decimal, str]:
    """1 without risks that count, falling to 0 as their exposure adds up to the cap."""
    if service.open_risks == 0:
        return ONE, "no open risks"
    part = ONE - Decimal(min(service.risk_exposure, RISK_CAP)) / RISK_CAP
    return part, f"risk exposure {service.risk_exposure} of {service.open_risks} risks"


def alignment_part(service: ServiceFacts) -> tuple[Decimal, str]:
    """The alignment weights added up, at most 1."""
    if not service.objectives:
        return ZERO, "not aligned to an objective"
    count = len(service.objectives)
    return (min(ONE, service.alignment),
            f"aligned to {count} objective{'' if count == 1 else 's'}, weight "
            f"{_two_places(service.alignment)}")


def score(service: ServiceFacts, support: Support, settings: Settings) -> Score:
    weights = parse_settings(settings)
    parts = {
        "benefit": benefit_part(service),
        "category": (CATEGORY_PART[service.investment_category],
                     service.investment_category.value),
        "support": support_part(support),
        "risk": risk_part(service),
        "alignment": alignment_part(service),
    }
    total_weight = weights.total()
    factors = tuple(
        Factor(name, part, getattr(weights, name),
               100 * getattr(weights, name) * part / total_weight, words)
        for name, (part, words) in parts.items())
    weighted = sum((getattr(weights, name) * part for name, (part, _) in parts.items()), ZERO)
    value = (100 * weighted / total_weight).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)
    explanation = ", ".join(f"{words} ({_two_places(part)})" for part, words in parts.values())
    return Score(value, explanation, tuple(
        Factor(factor.name, factor.part.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP),
               factor.weight, _rounded(factor.contribution), factor.explanation)
        for factor in factors))


def _rounded(number: Decimal) -> Decimal:
    return number.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def _two_places(number: Decimal) -> str:
    return format(number.quantize(HUNDREDTH, rounding=ROUND_HALF_UP), "f")


@hookimpl
def spm_scoring_models() -> list[ScoringModel]:
    return [ScoringModel(
        name=MODEL_NAME,
        title="Balanced",
        description="Value for money (benefit/cost, capped at 3), investment category "
                    "(transform over grow over run), stakeholder support, risk exposure "
                    "(none best, 25 or more worst) and alignment to strategic objectives, "
                    "weighted 0.5, 0.2, 0.3, 0.2 and 0.3 unless the organisation sets "
                    "other weights.",
        score=score,
        validate_settings=validate_settings,
        default=True,
    )]
