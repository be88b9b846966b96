"""The ``price_per_unit`` model: each customer pays their quantity times a unit price,
rounded half-up: a price list."""

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
from spm_api.plugins.builtin.finance.charging.usage import (
    consumers,
    counted_unit,
    quantity_text,
)
from spm_api.plugins.contracts import Charge, ChargingModel, ChargingPeriod, Settings
from spm_api.plugins.markers import hookimpl

MODEL_NAME = "price_per_unit"


@dataclass(frozen=True, slots=True)
class PricePerUnit:
    unit_price: Decimal
    unit: str | None


def parse(parameters: Settings) -> PricePerUnit:
    checked_parameters = checked(parameters, MODEL_NAME, ("unit_price", "unit"))
    return PricePerUnit(required_decimal(checked_parameters, "unit_price"),
                        optional_unit(checked_parameters))


def validate_parameters(parameters: Settings) -> dict[str, Any]:
    parsed = parse(parameters)
    return with_unit({"unit_price": text(parsed.unit_price)}, parsed.unit)


def charge(period: ChargingPeriod, parameters: Settings, _settings: Settings
           ) -> list[Charge]:
    parsed = parse(parameters)
    unit = counted_unit(period, parsed.unit)
    # The unit price as sent, not rounded: 0.125 EUR a unit is a price list's right.
    price = f"{text(parsed.unit_price)} {period.currency}"
    return [
        Charge(customer_id, period.round(quantity * parsed.unit_price),
               f"price per unit: {quantity_text(quantity, unit)} at {price} each")
        for customer_id, quantity in consumers(period, parsed.unit)
    ]


@hookimpl
def spm_charging_models() -> list[ChargingModel]:
    return [ChargingModel(
        name=MODEL_NAME,
        title="Price per unit",
        description="Each customer pays their monthly quantity times the unit price. "
                    "Parameters: unit_price (required, e.g. \"0.25\"), unit (optional: "
                    "only usage in this unit counts).",
        validate_parameters=validate_parameters,
        charge=charge,
    )]
