"""The ``cost_recovery`` model: customers are billed the month's actual cost, shared in
proportion to their usage, to the cent: the service neither gains nor loses."""

from __future__ import annotations

from spm_api.plugins.builtin.finance.charging.cost_sharing import CostSharing
from spm_api.plugins.contracts import ChargingModel
from spm_api.plugins.markers import hookimpl

MODEL_NAME = "cost_recovery"


SHARING = CostSharing(MODEL_NAME, "cost recovery")
parse = SHARING.parse
validate_parameters = SHARING.validate_parameters
charge = SHARING.charge


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
