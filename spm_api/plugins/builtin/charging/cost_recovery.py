"""The ``cost_recovery`` model: customers are billed the month's actual cost, shared in
proportion to their usage, to the cent: the service neither gains nor loses."""

from __future__ import annotations

from typing import Any

from spm_api.plugins.builtin.charging.parameters import checked, optional_unit, with_unit
from spm_api.plugins.builtin.charging.usage import money_text, shared
from spm_api.plugins.contracts import Charge, ChargingModel, ChargingPeriod, Settings
from spm_api.plugins.markers import hookimpl

MODEL_NAME = "cost_recovery"


def parse(parameters: Settings) -> str | None:
    """The unit whose usage counts, or None for all usage."""
    return optional_unit(checked(parameters, MODEL_NAME, ("unit",)))


def validate_parameters(parameters: Settings) -> dict[str, Any]:
    return with_unit({}, parse(parameters))


def charge(period: ChargingPeriod, parameters: Settings, _settings: Settings
           ) -> list[Charge]:
    """Shares add up exactly to the actual cost, credits (a negative cost) included."""
    total = money_text(period.actual_cost, period)
    return shared(period, period.actual_cost, parse(parameters),
                  lambda used: f"cost recovery: {used}, share of {total}")


@hookimpl
def spm_charging_models() -> list[ChargingModel]:
    return [ChargingModel(
        name=MODEL_NAME,
        title="Cost recovery",
        description="The month's actual cost billed to customers in proportion to their "
                    "usage. Parameters: unit (optional: only usage in this unit counts).",
        validate_parameters=validate_parameters,
        charge=charge,
    )]
