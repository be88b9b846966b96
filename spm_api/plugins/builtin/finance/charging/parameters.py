"""Reading a charging policy's parameters: they arrive as JSON from a finance user, so
every refusal says in plain words what was wrong, and what is accepted is normalised
(decimals as plain strings) so the stored policy reads the same however it was sent."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

from spm_api.plugins.contracts import PluginSettingsError, Settings
from spm_api.plugins.settings import an_object, decimal_number, refuse_unknown


def checked(parameters: Settings, model: str, known: Collection[str]) -> Mapping[str, Any]:
    """The parameters as a mapping, refusing keys the model does not read, so a typo
    cannot silently fall back to a default."""
    given = an_object(parameters, f"the {model} parameters")
    refuse_unknown(given, known, reader=f"the {model} model", kind="parameter")
    return given


def required_decimal(parameters: Mapping[str, Any], name: str) -> Decimal:
    if parameters.get(name) is None:
        raise PluginSettingsError(f"{name} is required")
    return decimal_number(parameters[name], name)


def optional_unit(parameters: Mapping[str, Any]) -> str | None:
    """The unit whose usage counts; None (or absent) means usage in every unit."""
    value = parameters.get("unit")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise PluginSettingsError(
            f"unit must be the name of a usage unit such as \"GB\", not {value!r}")
    return value.strip()


def text(number: Decimal) -> str:
    """A decimal as a plain string, never in exponent form: ``1E+2`` → ``100``."""
    return format(number, "f")


def with_unit(normalised: dict[str, Any], unit: str | None) -> dict[str, Any]:
    """``normalised`` with the unit filter, when there is one."""
    return normalised if unit is None else {**normalised, "unit": unit}
