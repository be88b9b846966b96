"""Money: a ``Decimal`` amount and an ISO 4217 currency, never a float.

Amounts are rounded to the currency's minor unit (cents for EUR, none for JPY, mils
for BHD) with ROUND_HALF_UP, as invoices are. When an amount is shared out, the
rounding remainder goes to the largest fractional parts first (the largest
remainder method), so the shares always add up exactly to what was shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

from spm_api.vocabulary.errors import ErrorCode, fail

#: The largest amount the books hold (stored as ten-thousandths in a 64-bit integer).
LARGEST = Decimal("99999999999999")


@cache
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def currency_code(code: str, field: str = "currency") -> str:
    """An upper-case ISO 4217 code, or VALIDATION naming ``field``."""
    cleaned = code.strip().upper()
    if cleaned not in _known_currencies():
        raise fail(ErrorCode.VALIDATION,
                   f"{field} must be an ISO 4217 currency code like EUR, not {code!r}", field)
    return cleaned


@cache  # a currency's precision is fixed: asked once per value shown, looked up once
def minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency``: 0.01 for EUR, 1 for JPY, 0.001 for BHD."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def rounded(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def parse(cls, amount: str | Decimal, currency: str, field: str = "amount") -> Money:
        """Exact money from input: a finite decimal with no more digits than the
        currency's minor unit allows."""
        code = currency_code(currency, f"{field}.currency")
        try:
            value = Decimal(amount)
        except (InvalidOperation, ValueError):
            raise fail(ErrorCode.VALIDATION, f"{field} must be a decimal number, not "
                       f"{amount!r}", field) from None
        if not value.is_finite():
            raise fail(ErrorCode.VALIDATION, f"{field} must be a finite number", field)
        if abs(value) > LARGEST:
            raise fail(ErrorCode.VALIDATION, f"{field} must be at most {LARGEST}", field)
        if value != rounded(value, code):
            raise fail(ErrorCode.VALIDATION,
                       f"{field} has more decimals than {code} has (its smallest unit is "
                       f"{minor_unit(code)})", field)
        return cls(rounded(value, code), code)

    def require_currency(self, expected: str, field: str = "amount") -> Money:
        """Refuse an amount in a currency other than the books are kept in."""
        if self.currency != expected:
            raise fail(ErrorCode.CURRENCY_MISMATCH,
                       f"{field} is in {self.currency}, but this organisation keeps its "
                       f"books in {expected}; convert it first", field)
        return self


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Share ``total`` in proportion to ``weights``, rounded to the minor unit, so that
    the shares add up exactly to ``total`` (rounded)."""
    if not weights:
        return []
    if any(weight < 0 for weight in weights):
        raise ValueError("weights must not be negative")
    whole = sum(weights, Decimal(0))
    if whole == 0:
        raise ValueError("at least one weight must be positive")
    unit = minor_unit(currency)
    target = rounded(total, currency)
    exact = [target * weight / whole for weight in weights]
    shares = [share.quantize(unit, rounding=ROUND_DOWN) for share in exact]
    leftover_units = int((target - sum(shares, Decimal(0))) / unit)
    step = unit if leftover_units >= 0 else -unit
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for index in by_remainder[:abs(leftover_units)]:
        shares[index] += step
    return shares
