"""The ``none`` model: a cost centre. The service's cost is carried centrally and no
customer is ever charged for it."""

from __future__ import annotations

from spm_api.plugins.builtin.finance.charging.parameters import checked
from spm_api.plugins.contracts import Charge, ChargingModel, ChargingPeriod, Settings
from spm_api.plugins.markers import hookimpl

MODEL_NAME = "none"


def validate_parameters(parameters: Settings) -> dict[str, object]:
    """The model reads no parameters; any sent are refused rather than ignored."""
    checked(parameters, MODEL_NAME, ())
    return {}


def charge(_period: ChargingPeriod, parameters: Settings, _settings: Settings
           ) -> list[Charge]:
    validate_parameters(parameters)
    return []


@hookimpl
def spm_charging_models() -> list[ChargingModel]:
    return [ChargingModel(
        name=MODEL_NAME,
        title="Cost centre (no charges)",
        description="The service's cost is carried centrally; customers are not charged.",
        validate_parameters=validate_parameters,
        charge=charge,
        default=True,
    )]
