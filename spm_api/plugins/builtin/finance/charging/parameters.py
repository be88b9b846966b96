"""Reading a charging policy's parameters: they arrive as JSON from a finance user, so
every refusal says in plain words what was wrong, and what is accepted is normalised
(decimals as plain strings) so the stored policy reads the same however it was sent."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from spm_api.plugins.contracts import PluginSettingsError, Settings

#: Digits before the decimal point a parameter may have: far beyond any real price,
#: and it keeps "1e999999" from becoming a million-digit string.
MAX_INTEGER_DIGITS = 14


def checked(parameters: Settings, model: str, known: Collection[str]) -> Mapping[str, Any]:
    """The parameters as a mapping, refusing keys the model does not read, so a typo
    cannot silently fall back to a default."""
    if not isinstance(parameters, Mapping):
        raise PluginSettingsError(
            f"the {model} parameters must be an object, not {type(parameters).__name__}")
    unknown = sorted(str(key) for key in parameters if key not in known)
    if unknown:
        reads = ", ".join(sorted(known)) if known else "no parameters"
        raise PluginSettingsError(
            f"unknown parameter {', '.join(repr(key) for key in unknown)}: the {model} "
            f"model reads {reads}")
    return parameters


def decimal_value(name: str, value: object) -> Decimal:
    """A number sent as a JSON number or a decimal string, exactly, zero or more."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise PluginSettingsError(f"{name} must be a number, not {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise PluginSettingsError(f"{name} must be a number, not {value!r}") from None
    if not number.is_finite():
        raise PluginSettingsError(f"{name} must be a finite number, not {value!r}")
    if number < 0:
        raise PluginSettingsError(f"{name} must be zero or more, not {value!r}")
    if number.adjusted() >= MAX_INTEGER_DIGITS:
        raise PluginSettingsError(f"{name} is too large: {value!r}")
    return abs(number)  # -0 is 0


def required_decimal(parameters: Mapping[str, Any], name: str) -> Decimal:
    if parameters.get(name) is None:
        raise PluginSettingsError(f"{name} is required")
    return decimal_value(name, parameters[name])


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
