"""The ``tiered`` model: graduated pricing. Each customer's monthly quantity is priced
tier by tier (the first 100 at 1.00, the rest at 0.80), so using more never makes the
whole quantity cheaper at once, and the total is rounded once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from spm_api.plugins.builtin.finance.charging.parameters import (
    checked,
    optional_unit,
    text,
    with_unit,
)
from spm_api.plugins.builtin.finance.charging.usage import consumers, counted_unit, quantity_text
from spm_api.plugins.contracts import (
    Charge,
    ChargingModel,
    ChargingPeriod,
    PluginSettingsError,
    Settings,
)
from spm_api.plugins.markers import hookimpl
from spm_api.plugins.settings import decimal_number

MODEL_NAME = "tiered"
EXAMPLE = '[{"up_to": "100", "unit_price": "1.00"}, {"up_to": null, "unit_price": "0.80"}]'


@dataclass(frozen=True, slots=True)
class Tier:
    """Units above the previous tier's ``up_to`` and up to this one (None: no limit)
    cost ``unit_price`` each."""

    up_to: Decimal | None
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class Tiered:
    tiers: tuple[Tier, ...]
    unit: str | None


def parse(parameters: Settings) -> Tiered:
    checked_parameters = checked(parameters, MODEL_NAME, ("tiers", "unit"))
    return Tiered(_tiers(checked_parameters.get("tiers")), optional_unit(checked_parameters))


def _tiers(raw: object) -> tuple[Tier, ...]:
    """Strictly ascending bounds, the last one open, so every quantity has exactly one
    price for each of its units."""
    if not isinstance(raw, list) or not raw:
        raise PluginSettingsError(f"tiers must be a list of at least one tier, like {EXAMPLE}")
    tiers: list[Tier] = []
    below = Decimal(0)  # where the tier being read starts
    for number, entry in enumerate(raw, start=1):
        name = f"tier {number}"
        if not isinstance(entry, Mapping):
            raise PluginSettingsError(
                f"{name} must be an object with up_to and unit_price, not {entry!r}")
        unknown = sorted(str(key) for key in entry if key not in ("up_to", "unit_price"))
        if unknown:
            raise PluginSettingsError(
                f"{name}: unknown key {', '.join(repr(key) for key in unknown)}; a tier has "
                f"only up_to and unit_price")
        if entry.get("unit_price") is None:
            raise PluginSettingsError(f"{name}: unit_price is required")
        unit_price = decimal_number(entry["unit_price"], f"{name} unit_price")
        last = number == len(raw)
        raw_up_to = entry.get("up_to")
        if raw_up_to is None:
            if not last:
                raise PluginSettingsError(
                    f"{name}: only the last tier may have no up_to (no upper limit)")
            tiers.append(Tier(None, unit_price))
            continue
        if last:
            raise PluginSettingsError(
                f"the last tier must have up_to null (no upper limit), so every quantity "
                f"has a price; tier {number} stops at {raw_up_to!r}")
        up_to = decimal_number(raw_up_to, f"{name} up_to")
        if up_to <= below:
            raise PluginSettingsError(
                f"{name}: up_to must be more than {text(below)} (where "
                f"{'the previous tier stops' if tiers else 'the first tier starts'}), "
                f"not {raw_up_to!r}")
        tiers.append(Tier(up_to, unit_price))
        below = up_to
    return tuple(tiers)


def validate_parameters(parameters: Settings) -> dict[str, Any]:
    parsed = parse(parameters)
    tiers = [{"up_to": None if tier.up_to is None else text(tier.up_to),
              "unit_price": text(tier.unit_price)} for tier in parsed.tiers]
    return with_unit({"tiers": tiers}, parsed.unit)


def priced(quantity: Decimal, tiers: tuple[Tier, ...]) -> list[tuple[Decimal, Decimal]]:
    """How many units fall in each tier and at what unit price, tiers left empty
    left out."""
    parts = []
    start = Decimal(0)
    for tier in tiers:
        end = quantity if tier.up_to is None else min(quantity, tier.up_to)
        if end > start:
            parts.append((end - start, tier.unit_price))
        if tier.up_to is None or quantity <= tier.up_to:
            break
        start = tier.up_to
    return parts


def charge(period: ChargingPeriod, parameters: Settings, _settings: Settings
           ) -> list[Charge]:
    parsed = parse(parameters)
    unit = counted_unit(period, parsed.unit)
    charges = []
    for customer_id, quantity in consumers(period, parsed.unit):
        parts = priced(quantity, parsed.tiers)
        amount = period.round(sum((units * price for units, price in parts), Decimal(0)))
        steps = ", ".join(f"{quantity_text(units)} at {text(price)} {period.currency}"
                          for units, price in parts)
        charges.append(Charge(customer_id, amount,
                              f"tiered: {quantity_text(quantity, unit)} priced {steps}"))
    return charges


@hookimpl
def spm_charging_models() -> list[ChargingModel]:
    return [ChargingModel(
        name=MODEL_NAME,
        title="Tiered (graduated) price",
        description="Each customer's monthly quantity is priced tier by tier. "
                    f"Parameters: tiers (required, e.g. {EXAMPLE}: ascending up_to, the "
                    "last null), unit (optional: only usage in this unit counts).",
        validate_parameters=validate_parameters,
        charge=charge,
    )]
