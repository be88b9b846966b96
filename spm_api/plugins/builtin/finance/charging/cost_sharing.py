"""The month's actual cost shared among its users in proportion to their usage: what
``cost_recovery`` bills and ``showback`` only reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spm_api.plugins.builtin.finance.charging.parameters import checked, optional_unit, with_unit
from spm_api.plugins.builtin.finance.charging.usage import money_text, shared
from spm_api.plugins.contracts import Charge, ChargingPeriod, Settings


@dataclass(frozen=True, slots=True)
class CostSharing:
    """``label`` starts each line's description, e.g. "cost recovery"."""

    model_name: str
    label: str

    def parse(self, parameters: Settings) -> str | None:
        """The unit whose usage counts, or None for all usage."""
        return optional_unit(checked(parameters, self.model_name, ("unit",)))

    def validate_parameters(self, parameters: Settings) -> dict[str, Any]:
        return with_unit({}, self.parse(parameters))

    def charge(self, period: ChargingPeriod, parameters: Settings, _settings: Settings
               ) -> list[Charge]:
        """Shares add up exactly to the actual cost, credits (a negative cost) included."""
        total = money_text(period.actual_cost, period)
        return shared(period, period.actual_cost, self.parse(parameters),
                      lambda used: f"{self.label}: {used}, share of {total}")
