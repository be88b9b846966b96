"""What the usage-based models share: who is charged for how much, and how a line
reads, so every model's statement lines speak the same language."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from spm_api.plugins.builtin.finance.charging.parameters import text
from spm_api.plugins.contracts import Charge, ChargingPeriod


def consumers(period: ChargingPeriod, unit: str | None = None) -> list[tuple[int, Decimal]]:
    """Each customer who consumed something (in ``unit``, when one is given) and how
    much, in a stable order. A customer who consumed nothing is not charged at all:
    no zero line, and no weight in a share."""
    found = []
    for customer_id in period.customer_ids:
        quantity = period.quantity_of(customer_id, unit)
        if quantity > 0:
            found.append((customer_id, quantity))
    return found


def counted_unit(period: ChargingPeriod, unit: str | None) -> str | None:
    """The unit to print after quantities: the filter, or the one unit all usage is in
    (quantities in mixed units are printed bare)."""
    if unit is not None:
        return unit
    units = {usage.unit for usage in period.usage}
    return units.pop() if len(units) == 1 else None


def quantity_text(quantity: Decimal, unit: str | None = None) -> str:
    """``120``, ``120 GB``, ``0.5 h``: no trailing zeros, never an exponent."""
    number = text(quantity.normalize()) if quantity != 0 else "0"
    return number if unit is None else f"{number} {unit}"


def money_text(amount: Decimal, period: ChargingPeriod) -> str:
    """``1000.00 EUR``: rounded to the currency's minor unit, code after."""
    return f"{text(period.round(amount))} {period.currency}"


def shared(period: ChargingPeriod, total: Decimal, unit: str | None,
           describe: Callable[[str], str]) -> list[Charge]:
    """``total`` shared among the consumers in proportion to their quantity, so the
    lines add up exactly to it (rounded). ``describe`` turns "120 of 400 GB" into the
    line's description. Nothing to share, or nobody to share it with: no lines."""
    users = consumers(period, unit)
    if not users or period.round(total) == 0:
        return []
    printed_unit = counted_unit(period, unit)
    whole = sum((quantity for _, quantity in users), Decimal(0))
    amounts = period.share(total, [quantity for _, quantity in users])
    return [
        Charge(customer_id, amount, describe(
            f"{quantity_text(quantity)} of {quantity_text(whole, printed_unit)}"))
        for (customer_id, quantity), amount in zip(users, amounts, strict=True)
    ]
