"""Behaviour that ships with SPM API, registered exactly like third-party plugins."""

from __future__ import annotations

from types import ModuleType

from spm_api.plugins.builtin.approvals import majority, resources_check
from spm_api.plugins.builtin.finance import balanced_score
from spm_api.plugins.builtin.finance.charging import (
    cost_plus,
    cost_recovery,
    fixed_price,
    price_per_unit,
    showback,
    tiered,
)
from spm_api.plugins.builtin.finance.charging import none as none_model
from spm_api.plugins.builtin.stewardship import thresholds

#: Plugin name → module, registered by every plugin manager before third-party plugins.
BUILTIN_PLUGINS: dict[str, ModuleType] = {
    "spm_api.majority": majority,
    "spm_api.resources_check": resources_check,
    "spm_api.balanced_score": balanced_score,
    "spm_api.charging.none": none_model,
    "spm_api.charging.showback": showback,
    "spm_api.charging.cost_recovery": cost_recovery,
    "spm_api.charging.cost_plus": cost_plus,
    "spm_api.charging.fixed_price": fixed_price,
    "spm_api.charging.price_per_unit": price_per_unit,
    "spm_api.charging.tiered": tiered,
    "spm_api.health.thresholds": thresholds,
}
