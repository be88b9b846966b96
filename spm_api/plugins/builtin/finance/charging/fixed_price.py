"""The ``fixed_price`` model: every customer who used the service in the month pays the
same price, however much they used: a subscription."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from spm_api.plugins.builtin.finance.charging.parameters import checked, required_decimal, text
from spm_api.plugins.builtin.finance.charging.usage import consumers, money_text
from spm_api.plugins.contracts import Charge, ChargingModel, ChargingPeriod, Settings
from spm_api.plugins.markers import hookimpl

MODEL_NAME = "fixed_price"


def parse(parameters: Settings) -> Decimal:
    return required_decimal(checked(parameters, MODEL_NAME, ("price",)), "price")


def validate_parameters(parameters: Settings) -> dict[str, Any]:
    return {"price": text(parse(parameters))}


def charge(period: ChargingPeriod, parameters: Settings, _settings: Settings
           ) -> list[Charge]:
    """The price is rounded to the currency's minor unit here, where the currency is
    known: a policy does not know which currency its organisation keeps books in."""
    price = period.round(parse(parameters))
    description = f"fixed price: {money_text(price, period)} for {period.period}"
    return [Charge(customer_id, price, description)
            for customer_id, _quantity in consumers(period)]


@hookimpl
def spm_charging_models() -> list[ChargingModel]:
    return [ChargingModel(
        name=MODEL_NAME,
        title="Fixed price",
        description="Every customer who used the service in the month pays the same "
                    "price. Parameters: price (required, e.g. \"500.00\").",
        validate_parameters=validate_parameters,
        charge=charge,
    )]
