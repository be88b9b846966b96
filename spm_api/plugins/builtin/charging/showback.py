"""The ``showback`` model: customers see what their use of the service cost (the
month's actual cost shared in proportion to usage) without being billed for it."""

from __future__ import annotations

from typing import Any

from spm_api.plugins.builtin.charging.parameters import checked, optional_unit, with_unit
from spm_api.plugins.builtin.charging.usage import money_text, shared
from spm_api.plugins.contracts import Charge, ChargingModel, ChargingPeriod, Settings
from spm_api.plugins.markers import hookimpl

MODEL_NAME = "showback"


def parse(parameters: Settings) -> str | None:
    """The unit whose usage counts, or None for all usage."""
    return optional_unit(checked(parameters, MODEL_NAME, ("unit",)))


def validate_parameters(parameters: Settings) -> dict[str, Any]:
    return with_unit({}, parse(parameters))


def charge(period: ChargingPeriod, parameters: Settings, _settings: Settings
           ) -> list[Charge]:
    total = money_text(period.actual_cost, period)
    return shared(period, period.actual_cost, parse(parameters),
                  lambda used: f"showback (not billed): {used}, share of {total}")


@hookimpl
def spm_charging_models() -> list[ChargingModel]:
    return [ChargingModel(
        name=MODEL_NAME,
        title="Showback",
        description="The month's actual cost shared by usage and reported to customers, "
                    "never billed. Parameters: unit (optional: only usage in this unit "
                    "counts).",
        validate_parameters=validate_parameters,
        charge=charge,
        billed=False,
    )]
