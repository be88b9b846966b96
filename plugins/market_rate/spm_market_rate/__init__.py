"""An example third-party charging model: each customer pays for what it used, unit by
unit, at the prices of the organisation's rate card, less an optional discount.

The organisation's settings for the plugin hold the rate card (unit → unit price and an
organisation-wide discount); a service's charging policy names which units of the card
it charges and may replace the discount with its own.

The module itself is the plugin: ``pyproject.toml`` advertises it under the ``spm_api``
entry-point group as ``market_rate``, and SPM API calls its ``@hookimpl`` functions.
Everything it needs comes from the public plugin API, ``spm_api.plugins``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from spm_api.plugins import (
    Charge,
    ChargingModel,
    ChargingPeriod,
    PluginSettingsError,
    Settings,
    hookimpl,
)
from spm_api.plugins.settings import an_object, decimal_number, refuse_unknown

__all__ = [
    "MODEL_NAME",
    "MarketRateParameters",
    "RateCard",
    "charge",
    "parse_parameters",
    "parse_settings",
    "spm_charging_models",
    "validate_parameters",
    "validate_settings",
]

MODEL_NAME = "market_rate"

SETTINGS_KEYS = ("rates", "discount_percent")
PARAMETER_KEYS = ("units", "discount_percent")

_HUNDRED = Decimal(100)

#: The sign between quantity and rate in a description ("120 GB-month <sign> 0.12"),
#: named because ruff takes the character itself for a confusable "x".
TIMES = "\N{MULTIPLICATION SIGN}"

#: Digits before the decimal point a price may have: far beyond any real price, and it
#: keeps "1e999999" from becoming a million-digit string in a description.
MAX_INTEGER_DIGITS = 15


@dataclass(frozen=True, slots=True)
class RateCard:
    """The organisation's settings for this plugin, checked and with defaults filled in."""

    #: Unit → price of one unit, in the organisation's currency; every price is ≥ 0.
    rates: Mapping[str, Decimal] = field(default_factory=dict)
    #: Percentage taken off every charge (0 to 100) unless a service sets its own.
    discount_percent: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class MarketRateParameters:
    """A service's charging policy parameters, checked."""

    #: The units of the rate card the service charges, in the order given.
    units: tuple[str, ...]
    #: The service's own discount, replacing the card's; None keeps the card's.
    discount_percent: Decimal | None = None


# --- settings: the rate card -------------------------------------------------------


def parse_settings(settings: Settings) -> RateCard:
    """Check the rate card an admin sent and fill in the defaults.

    Settings arrive as JSON: a price or a discount may be a number or a decimal string
    ("0.045"). A key set to null is treated as not set. Unknown keys are refused, so a
    typo cannot silently drop the discount. Raises ``PluginSettingsError`` with words
    for the admin.
    """
    settings = an_object(settings, "the market_rate settings")
    refuse_unknown(settings, SETTINGS_KEYS, reader="the market_rate model")

    raw_rates = settings.get("rates")
    if raw_rates is None:
        raise PluginSettingsError(
            'rates is required: an object of unit → unit price, such as '
            '{"GB-month": "0.12", "vCPU-hour": "0.045"}')
    if not isinstance(raw_rates, Mapping):
        raise PluginSettingsError(
            f'rates must be an object of unit → unit price, such as {{"GB-month": "0.12"}}, '
            f"not {raw_rates!r}")
    if not raw_rates:
        raise PluginSettingsError("rates must price at least one unit")
    rates: dict[str, Decimal] = {}
    for unit, raw_price in raw_rates.items():
        _unit_name(unit, "a unit of rates")
        price = _decimal(raw_price, f"the rate of {unit!r}")
        if price < 0:
            raise PluginSettingsError(
                f"the rate of {unit!r} must be zero or more, not {_plain(price)}")
        rates[unit] = price

    discount = Decimal(0)
    if settings.get("discount_percent") is not None:
        discount = _discount(settings["discount_percent"])
    return RateCard(rates=rates, discount_percent=discount)


def validate_settings(settings: Settings) -> None:
    """Refuse a rate card the model cannot use; called when an admin configures the
    plugin with ``configurePlugin``."""
    parse_settings(settings)


# --- parameters: what one service charges ------------------------------------------


def parse_parameters(parameters: Settings) -> MarketRateParameters:
    """Check a service's charging policy parameters. Raises ``PluginSettingsError``
    with words for the finance user who set the policy."""
    parameters = an_object(parameters, "the market_rate parameters")
    refuse_unknown(parameters, PARAMETER_KEYS, reader="the market_rate model", kind="parameter")

    raw_units = parameters.get("units")
    if raw_units is None:
        raise PluginSettingsError(
            'units is required: the list of rate card units this service charges, such as '
            '["GB-month", "vCPU-hour"]')
    if not isinstance(raw_units, list | tuple):
        raise PluginSettingsError(
            f'units must be a list of unit names, such as ["GB-month"], not {raw_units!r}')
    if not raw_units:
        raise PluginSettingsError("units must name at least one unit of the rate card")
    units: list[str] = []
    for unit in raw_units:
        _unit_name(unit, "each of units")
        if unit in units:
            raise PluginSettingsError(f"units names {unit!r} twice")
        units.append(unit)

    discount = None
    if parameters.get("discount_percent") is not None:
        discount = _discount(parameters["discount_percent"])
    return MarketRateParameters(units=tuple(units), discount_percent=discount)


def validate_parameters(parameters: Settings) -> dict[str, Any]:
    """The parameters normalised as JSON: ``units`` as a list and ``discount_percent``,
    when set, as a decimal string. Called when a service's charging policy is set."""
    parsed = parse_parameters(parameters)
    normalised: dict[str, Any] = {"units": list(parsed.units)}
    if parsed.discount_percent is not None:
        normalised["discount_percent"] = _plain(parsed.discount_percent)
    return normalised


# --- the model -------------------------------------------------------------------


def charge(period: ChargingPeriod, parameters: Settings, settings: Settings) -> list[Charge]:
    """One line per customer with usage in the service's units: the sum over those
    units of quantity times rate, less the discount (the service's, else the card's),
    rounded half-up to the currency's minor unit once, at the end.

    A unit the service charges that the rate card does not price raises ``ValueError``:
    the charging run fails rather than charge nothing for it.
    """
    if not settings:
        raise ValueError(
            f"the organisation has no rate card for {MODEL_NAME}, so "
            f"{period.service_name!r} cannot be charged: an admin sets one with "
            f'configurePlugin(input: {{plugin: "{MODEL_NAME}", settings: {{rates: ...}}}})')
    card = parse_settings(settings)
    chosen = parse_parameters(parameters)
    missing = [unit for unit in chosen.units if unit not in card.rates]
    if missing:
        raise ValueError(
            f"{period.service_name!r} charges {_names(missing)} at market rate, but the "
            f"organisation's rate card has no price for "
            f"{'it' if len(missing) == 1 else 'them'} (the card prices "
            f"{_names(sorted(card.rates))}); add the price with configurePlugin or change "
            f"the service's charging policy")
    discount = (card.discount_percent if chosen.discount_percent is None
                else chosen.discount_percent)

    charges = []
    for customer_id in period.customer_ids:
        used = [(unit, quantity) for unit in chosen.units
                if (quantity := period.quantity_of(customer_id, unit)) != 0]
        if not used:
            continue
        # Enough digits that no product or sum is ever rounded before period.round.
        with localcontext(prec=80):
            subtotal = sum((quantity * card.rates[unit] for unit, quantity in used),
                           Decimal(0))
            amount = period.round(subtotal * (_HUNDRED - discount) / _HUNDRED)
        terms = " + ".join(f"{_plain(quantity)} {unit} {TIMES} {_plain(card.rates[unit])}"
                           for unit, quantity in used)
        less = f", less {_plain(discount)} %" if discount else ""
        charges.append(Charge(customer_id=customer_id, amount=amount,
                              description=f"market rate: {terms}{less}"))
    return charges


@hookimpl
def spm_charging_models() -> list[ChargingModel]:
    return [ChargingModel(
        name=MODEL_NAME,
        title="Market rate (rate card)",
        description="Each customer pays for the units it used at the prices of the "
                    "organisation's rate card (the plugin's settings), less the service's "
                    "or the card's discount. The service's parameters name the units of "
                    "the card it charges.",
        validate_parameters=validate_parameters,
        charge=charge,
        billed=True,
        validate_settings=validate_settings,
    )]


# --- helpers ---------------------------------------------------------------------


def _unit_name(unit: object, where: str) -> None:
    """A unit is compared exactly with the usage records' unit, so a blank name or one
    with stray spaces could never match: refuse it rather than charge nothing."""
    if not isinstance(unit, str) or not unit.strip():
        raise PluginSettingsError(f"{where} must be a unit name such as \"GB-month\", "
                                  f"not {unit!r}")
    if unit != unit.strip():
        raise PluginSettingsError(f"{where} must not start or end with spaces: {unit!r}")


def _discount(value: object) -> Decimal:
    discount = _decimal(value, "discount_percent")
    if not 0 <= discount <= _HUNDRED:
        raise PluginSettingsError(
            f"discount_percent must be from 0 to 100, not {_plain(discount)}")
    return discount


def _decimal(value: object, what: str) -> Decimal:
    """An exact decimal from JSON, negative ones included (the callers say what range
    they accept, in their own words)."""
    return decimal_number(value, what, negative=True, max_integer_digits=MAX_INTEGER_DIGITS)


def _plain(number: Decimal) -> str:
    """A decimal as people write it: no exponent, no trailing zeros (120, 0.045)."""
    text = f"{number.normalize():f}"
    return "0" if text == "-0" else text


def _names(units: list[str]) -> str:
    return ", ".join(repr(unit) for unit in units)
