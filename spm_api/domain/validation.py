"""Small input checks shared by the domain commands."""

from __future__ import annotations

from decimal import Decimal

from spm_api.domain.errors import ErrorCode, fail


def required_text(value: str, field: str, max_length: int | None = None) -> str:
    """Strip ``value``; refuse it when blank or longer than ``max_length``."""
    cleaned = value.strip()
    if not cleaned:
        raise fail(ErrorCode.VALIDATION, f"{field} must not be blank", field)
    return optional_text(cleaned, field, max_length)


def optional_text(value: str, field: str, max_length: int | None = None) -> str:
    cleaned = value.strip()
    if max_length is not None and len(cleaned) > max_length:
        raise fail(
            ErrorCode.VALIDATION, f"{field} must be at most {max_length} characters", field
        )
    return cleaned


#: The largest amount a Numeric(16, 2) column holds.
MAX_AMOUNT = Decimal("99999999999999.99")


def amount(value: Decimal | None, field: str) -> Decimal | None:
    """A non-negative amount with at most two decimal places (cents), or None."""
    if value is None:
        return None
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        raise fail(ErrorCode.VALIDATION,
                   f"{field} must be a non-negative amount up to {MAX_AMOUNT}", field)
    if value != value.quantize(Decimal("0.01")):
        raise fail(ErrorCode.VALIDATION, f"{field} has more than two decimal places", field)
    return value.quantize(Decimal("0.01"))
