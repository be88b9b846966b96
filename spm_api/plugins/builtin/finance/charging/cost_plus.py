"""The ``cost_plus`` model: the month's actual cost plus a markup, billed in proportion
to usage; the markup funds what actual cost does not show (reinvestment, overhead)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from spm_api.plugins.builtin.finance.charging.parameters import (
    checked,
    optional_unit,
    required_decimal,
    text,
    with_unit,
)
from spm_api.plugins.builtin.finance.charging.usage import money_text, shared
from spm_api.plugins.contracts import Charge, ChargingModel, ChargingPeriod, Settings
from spm_api.plugins.markers import hookimpl

MODEL_NAME = "cost_plus"


@dataclass(frozen=True, slots=True)
class CostPlus:
    markup_percent: Decimal
    unit: str | None


def parse(parameters: Settings) -> CostPlus:
    checked_parameters = checked(parameters, MODEL_NAME, ("markup_percent", "unit"))
    return CostPlus(required_decimal(checked_parameters, "markup_percent"),
                    optional_unit(checked_parameters))


def validate_parameters(parameters: Settings) -> dict[str, Any]:
    parsed = parse(parameters)
    return with_unit({"markup_percent": text(parsed.markup_percent)}, parsed.unit)


def charge(period: ChargingPeriod, parameters: Settings, _settings: Settings
           ) -> list[Charge]:
    """The marked-up total is rounded once, then shared so the lines add up to it."""
    parsed = parse(parameters)
    total = period.round(period.actual_cost * (1 + parsed.markup_percent / 100))
    why = (f"share of {money_text(total, period)} (actual cost "
           f"{money_text(period.actual_cost, period)} plus {text(parsed.markup_percent)} %)")
    return shared(period, total, parsed.unit, lambda used: f"cost plus: {used}, {why}")


@hookimpl
def spm_charging_models() -> list[ChargingModel]:
    return [ChargingModel(
        name=MODEL_NAME,
        title="Cost plus markup",
        description="The month's actual cost plus a markup, billed in proportion to "
                    "usage. Parameters: markup_percent (required, e.g. \"10\"), unit "
                    "(optional: only usage in this unit counts).",
        validate_parameters=validate_parameters,
        charge=charge,
    )]
