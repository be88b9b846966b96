"""Measured values and thresholds: exact decimals, and which side of a threshold is
worse for a KPI's direction. Shared by the domain and the built-in health model."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from spm_api.vocabulary.enums import KpiDirection
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.money import LARGEST

#: Decimal places a measured value keeps (the scaled column's).
VALUE_PLACES = 4
_STEP = Decimal(1).scaleb(-VALUE_PLACES)


def measured_value(value: Decimal | int | str, field: str = "value") -> Decimal:
    """An exact value: finite, at most four decimals, within what the column holds;
    written with four decimals, as the column gives it back."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise fail(ErrorCode.VALIDATION, f"{field} must be a number, not {value!r}",
                   field) from None
    if not number.is_finite():
        raise fail(ErrorCode.VALIDATION, f"{field} must be a number, not {value!r}", field)
    if abs(number) > LARGEST:
        raise fail(ErrorCode.VALIDATION, f"{field} must be between -{LARGEST} and {LARGEST}",
                   field)
    if number != number.quantize(_STEP):
        raise fail(ErrorCode.VALIDATION,
                   f"{field} has more than {VALUE_PLACES} decimals: {number}", field)
    return number.quantize(_STEP)


def worse(direction: KpiDirection, value: Decimal, threshold: Decimal) -> bool:
    """Whether ``value`` is on the wrong side of ``threshold`` (strictly)."""
    if direction is KpiDirection.HIGHER_IS_BETTER:
        return value < threshold
    return value > threshold


def in_order(direction: KpiDirection, target: Decimal, warning: Decimal,
             breach: Decimal) -> bool:
    """Whether the warning lies between the target and the breach threshold, the way
    the direction runs (equal values allowed)."""
    return not (worse(direction, target, warning) or worse(direction, warning, breach))


def plain(value: Decimal) -> str:
    """A value without exponent or trailing zeros: 12.5000 → "12.5", 1E+3 → "1000"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
