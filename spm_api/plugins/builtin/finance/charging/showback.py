"""The ``showback`` model: customers see what their use of the service cost (the
month's actual cost shared in proportion to usage) without being billed for it."""

from __future__ import annotations

from spm_api.plugins.builtin.finance.charging.cost_sharing import CostSharing
from spm_api.plugins.contracts import ChargingModel
from spm_api.plugins.markers import hookimpl

MODEL_NAME = "showback"


SHARING = CostSharing(MODEL_NAME, "showback (not billed)")
parse = SHARING.parse
validate_parameters = SHARING.validate_parameters
charge = SHARING.charge


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
