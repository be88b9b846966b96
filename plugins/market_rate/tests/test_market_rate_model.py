"""Unit tests of the market_rate charging model: plain ChargingPeriod objects in,
Charge lines out, no database. Run with ``pytest plugins/market_rate``."""

# The descriptions are written literally, with their multiplication sign (×), which
# ruff would otherwise take for a confusable "x".
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import logging
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, distribution, entry_points
from typing import Any

import pluggy
import pytest
import spm_market_rate
from spm_market_rate import (
    MODEL_NAME,
    MarketRateParameters,
    RateCard,
    charge,
    parse_parameters,
    parse_settings,
    spm_charging_models,
    validate_parameters,
    validate_settings,
)

from spm_api.plugins import (
    Charge,
    ChargeableUsage,
    ChargingModel,
    ChargingPeriod,
    PluginSettingsError,
)
from spm_api.plugins.contracts import CHARGE, CHARGING_MODELS, VALIDATE_PARAMETERS

CARD: dict[str, Any] = {"rates": {"GB-month": "0.12", "vCPU-hour": "0.045", "seat": "12.50"},
                        "discount_percent": "0"}


def period(*usage: tuple[int, str, str], currency: str = "EUR") -> ChargingPeriod:
    """A month of usage: (customer, quantity, unit) records, quantities as strings."""
    return ChargingPeriod(
        service_id=7, service_name="Cloud hosting", period="2026-11", currency=currency,
        actual_cost=Decimal("1000.00"),
        usage=tuple(ChargeableUsage(customer_id=customer, quantity=Decimal(quantity),
                                    unit=unit)
                    for customer, quantity, unit in usage))


def card(rates: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"rates": CARD["rates"] if rates is None else rates, **extra}


def installed() -> bool:
    try:
        distribution("spm-market-rate")
    except PackageNotFoundError:
        return False
    return True


needs_installing = pytest.mark.skipif(
    not installed(),
    reason="the spm-market-rate distribution is not installed, so its entry point "
           "cannot load: run `pip install -e plugins/market_rate` (make install does)")


# --- worked numbers ----------------------------------------------------------------


def test_the_readme_example() -> None:
    # 120 × 0.12 = 14.40, 10 × 0.045 = 0.45: 14.85, less 5 % = 14.1075 → 14.11
    charges = charge(period((1, "120", "GB-month"), (1, "10", "vCPU-hour")),
                     {"units": ["GB-month", "vCPU-hour"], "discount_percent": "5"}, CARD)
    assert charges == [Charge(
        customer_id=1, amount=Decimal("14.11"),
        description="market rate: 120 GB-month × 0.12 + 10 vCPU-hour × 0.045, less 5 %")]


def test_the_readme_worked_example_table() -> None:
    usage = period((1, "120", "GB-month"), (1, "10", "vCPU-hour"), (1, "3", "seat"),
                   (2, "1", "vCPU-hour"),
                   (3, "4", "seat"))
    parameters = {"units": ["GB-month", "vCPU-hour"], "discount_percent": "5"}
    assert charge(usage, parameters, CARD) == [
        Charge(1, Decimal("14.11"),
               "market rate: 120 GB-month × 0.12 + 10 vCPU-hour × 0.045, less 5 %"),
        # 0.045 less 5 % = 0.04275 → 0.04
        Charge(2, Decimal("0.04"), "market rate: 1 vCPU-hour × 0.045, less 5 %"),
    ]


def test_one_line_per_customer_in_customer_order() -> None:
    usage = period((2, "3", "seat"), (1, "40", "GB-month"), (1, "2", "seat"),
                   (2, "100", "GB-month"))
    charges = charge(usage, {"units": ["seat", "GB-month"]}, CARD)
    assert charges == [
        # 2 × 12.50 = 25.00, 40 × 0.12 = 4.80
        Charge(1, Decimal("29.80"), "market rate: 2 seat × 12.5 + 40 GB-month × 0.12"),
        # 3 × 12.50 = 37.50, 100 × 0.12 = 12.00
        Charge(2, Decimal("49.50"), "market rate: 3 seat × 12.5 + 100 GB-month × 0.12"),
    ]


def test_rounds_half_up_to_the_cent() -> None:
    # 1 × 0.045 = 0.045 → 0.05 and 5 × 0.045 = 0.225 → 0.23 (half-even would give
    # 0.04 and 0.22)
    charges = charge(period((1, "1", "vCPU-hour"), (2, "5", "vCPU-hour")),
                     {"units": ["vCPU-hour"]}, CARD)
    assert [(c.customer_id, c.amount) for c in charges] == [
        (1, Decimal("0.05")), (2, Decimal("0.23"))]


def test_rounds_once_after_summing_and_discounting() -> None:
    # 1 × 0.004 + 1 × 0.004 = 0.008 → 0.01; rounding each unit first would give 0.00
    rates = {"a": "0.004", "b": "0.004"}
    (line,) = charge(period((1, "1", "a"), (1, "1", "b")), {"units": ["a", "b"]},
                     card(rates))
    assert line.amount == Decimal("0.01")
    # 0.10 less 5 % = 0.095 → 0.10; rounding the discount on its own (0.005 → 0.01)
    # and taking it off would give 0.09
    (line,) = charge(period((1, "1", "a")), {"units": ["a"], "discount_percent": 5},
                     card({"a": "0.10"}))
    assert line.amount == Decimal("0.10")


def test_yen_has_no_minor_unit() -> None:
    rates = {"GB-month": "3.5", "vCPU-hour": "1.25"}
    usage = period((1, "3", "GB-month"),                      # 3 × 3.5 = 10.5 → 11
                   (2, "1", "GB-month"), (2, "2", "vCPU-hour"),  # 3.5 + 2.5 = 6
                   (3, "7", "vCPU-hour"),                     # 8.75 → 9
                   currency="JPY")
    assert charge(usage, {"units": ["GB-month", "vCPU-hour"]}, card(rates)) == [
        Charge(1, Decimal("11"), "market rate: 3 GB-month × 3.5"),
        Charge(2, Decimal("6"), "market rate: 1 GB-month × 3.5 + 2 vCPU-hour × 1.25"),
        Charge(3, Decimal("9"), "market rate: 7 vCPU-hour × 1.25"),
    ]
    # 6 less 10 % = 5.4 → 5; 10.5 less 10 % = 9.45 → 9
    discounted = charge(usage, {"units": ["GB-month", "vCPU-hour"]},
                        card(rates, discount_percent="10"))
    assert [line.amount for line in discounted] == [Decimal("9"), Decimal("5"),
                                                     Decimal("8")]


def test_bahraini_dinar_rounds_to_the_mil() -> None:
    # 1 × 0.0125 = 0.0125 → 0.013
    (line,) = charge(period((1, "1", "GB-month"), currency="BHD"), {"units": ["GB-month"]},
                     card({"GB-month": "0.0125"}))
    assert line.amount == Decimal("0.013")


def test_quantities_and_rates_are_shown_plainly() -> None:
    # Stored quantities come back with four decimals; the description drops the zeros.
    (line,) = charge(period((1, "120.0000", "GB-month"), (1, "0.5000", "vCPU-hour")),
                     {"units": ["GB-month", "vCPU-hour"]},
                     card({"GB-month": 0.12, "vCPU-hour": "1E+1"}))
    assert line == Charge(1, Decimal("19.40"),
                          "market rate: 120 GB-month × 0.12 + 0.5 vCPU-hour × 10")


def test_the_cards_discount_applies_when_the_service_sets_none() -> None:
    (line,) = charge(period((1, "100", "GB-month")), {"units": ["GB-month"]},
                     card(discount_percent="12.5"))
    # 12.00 less 12.5 % = 10.50
    assert line == Charge(1, Decimal("10.50"), "market rate: 100 GB-month × 0.12, less 12.5 %")


def test_the_services_discount_replaces_the_cards() -> None:
    usage = period((1, "100", "GB-month"))
    (line,) = charge(usage, {"units": ["GB-month"], "discount_percent": "25"},
                     card(discount_percent="10"))
    assert line == Charge(1, Decimal("9.00"), "market rate: 100 GB-month × 0.12, less 25 %")
    # A service discount of 0 switches the card's off for that service.
    (line,) = charge(usage, {"units": ["GB-month"], "discount_percent": 0},
                     card(discount_percent="10"))
    assert line == Charge(1, Decimal("12.00"), "market rate: 100 GB-month × 0.12")


def test_a_full_discount_charges_zero() -> None:
    (line,) = charge(period((1, "100", "GB-month")),
                     {"units": ["GB-month"], "discount_percent": "100"}, CARD)
    assert line == Charge(1, Decimal("0.00"), "market rate: 100 GB-month × 0.12, less 100 %")


def test_only_the_chosen_units_are_charged() -> None:
    usage = period((1, "100", "GB-month"), (1, "1000", "vCPU-hour"), (1, "4", "seat"),
                   (2, "9", "seat"),            # no usage in the chosen units: no line
                   (3, "0", "GB-month"))        # a zero quantity is no usage either
    assert charge(usage, {"units": ["GB-month"]}, CARD) == [
        Charge(1, Decimal("12.00"), "market rate: 100 GB-month × 0.12")]


def test_units_the_customer_did_not_use_are_left_out_of_the_description() -> None:
    (line,) = charge(period((1, "2", "seat")), {"units": ["GB-month", "seat", "vCPU-hour"]},
                     CARD)
    assert line == Charge(1, Decimal("25.00"), "market rate: 2 seat × 12.5")


def test_a_free_unit_still_gets_a_line() -> None:
    (line,) = charge(period((1, "5", "trial")), {"units": ["trial"]}, card({"trial": "0"}))
    assert line == Charge(1, Decimal("0.00"), "market rate: 5 trial × 0")


def test_no_usage_no_charges() -> None:
    assert charge(period(), {"units": ["GB-month"]}, CARD) == []


# --- units the card does not price ---------------------------------------------------


def test_a_unit_missing_from_the_card_fails_the_run() -> None:
    with pytest.raises(ValueError, match=(
            r"'Cloud hosting' charges 'TB-month' at market rate, but the organisation's "
            r"rate card has no price for it \(the card prices 'GB-month', 'seat', "
            r"'vCPU-hour'\)")) as raised:
        charge(period((1, "1", "GB-month")), {"units": ["GB-month", "TB-month"]}, CARD)
    assert not isinstance(raised.value, PluginSettingsError)


def test_a_unit_missing_from_the_card_fails_even_without_usage_in_it() -> None:
    with pytest.raises(ValueError, match=r"no price for them"):
        charge(period(), {"units": ["TB-month", "IOPS"]}, CARD)


def test_no_rate_card_at_all_fails_the_run() -> None:
    with pytest.raises(ValueError, match=r"the organisation has no rate card for "
                                         r"market_rate.*configurePlugin"):
        charge(period((1, "1", "GB-month")), {"units": ["GB-month"]}, {})


def test_units_are_matched_exactly() -> None:
    with pytest.raises(ValueError, match=r"no price for it"):
        charge(period((1, "1", "gb-month")), {"units": ["gb-month"]}, CARD)


# --- settings: the rate card ---------------------------------------------------------


def test_parses_the_rate_card() -> None:
    assert parse_settings(CARD) == RateCard(
        rates={"GB-month": Decimal("0.12"), "vCPU-hour": Decimal("0.045"),
               "seat": Decimal("12.50")},
        discount_percent=Decimal(0))
    assert parse_settings({"rates": {"seat": 12}, "discount_percent": None}) == RateCard(
        rates={"seat": Decimal(12)})
    assert parse_settings({"rates": {"seat": 0.1}}).rates["seat"] == Decimal("0.1")
    assert parse_settings(card(discount_percent=7.5)).discount_percent == Decimal("7.5")
    assert str(parse_settings({"rates": {"seat": "-0"}}).rates["seat"]) == "0"


def test_good_settings_are_accepted() -> None:
    validate_settings(CARD)  # no error
    validate_settings({"rates": {"seat": "0"}, "discount_percent": 100})


@pytest.mark.parametrize(("settings", "message"), [
    pytest.param({}, r"rates is required", id="no-rates"),
    pytest.param({"rates": None}, r"rates is required", id="null-rates"),
    pytest.param({"rates": {}}, r"rates must price at least one unit", id="empty-rates"),
    pytest.param({"rates": ["GB-month"]}, r"rates must be an object", id="rates-a-list"),
    pytest.param({"rates": "0.12"}, r"rates must be an object", id="rates-a-string"),
    pytest.param({"rates": {"seat": "-1"}}, r"the rate of 'seat' must be zero or more, "
                 r"not -1", id="negative-rate"),
    pytest.param({"rates": {"seat": "twelve"}}, r"the rate of 'seat' must be a number",
                 id="rate-not-a-number"),
    pytest.param({"rates": {"seat": "NaN"}}, r"must be a number", id="rate-nan"),
    pytest.param({"rates": {"seat": "Infinity"}}, r"must be a number", id="rate-infinite"),
    pytest.param({"rates": {"seat": float("inf")}}, r"must be a number", id="rate-inf-float"),
    pytest.param({"rates": {"seat": True}}, r"must be a number", id="rate-bool"),
    pytest.param({"rates": {"seat": None}}, r"must be a number", id="rate-null"),
    pytest.param({"rates": {"seat": {"price": 1}}}, r"must be a number", id="rate-object"),
    pytest.param({"rates": {"seat": "1e999999"}}, r"the rate of 'seat' is too large",
                 id="rate-too-large"),
    pytest.param({"rates": {"": "1"}}, r"a unit of rates must be a unit name",
                 id="blank-unit"),
    pytest.param({"rates": {" seat": "1"}}, r"must not start or end with spaces",
                 id="padded-unit"),
    pytest.param(card(discount_percent="-5"), r"discount_percent must be from 0 to 100, "
                 r"not -5", id="negative-discount"),
    pytest.param(card(discount_percent=101), r"discount_percent must be from 0 to 100",
                 id="discount-over-100"),
    pytest.param(card(discount_percent="5%"), r"discount_percent must be a number",
                 id="discount-with-percent-sign"),
    pytest.param(card(discount=5), r"unknown setting 'discount': the market_rate model "
                 r"reads only rates and discount_percent", id="unknown-key"),
])
def test_bad_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(PluginSettingsError, match=message):
        validate_settings(settings)


def test_settings_must_be_an_object() -> None:
    with pytest.raises(PluginSettingsError, match="must be an object"):
        validate_settings(["GB-month"])  # type: ignore[arg-type]


def test_charge_refuses_a_bad_card_too() -> None:
    with pytest.raises(PluginSettingsError, match="must be zero or more"):
        charge(period((1, "1", "seat")), {"units": ["seat"]}, {"rates": {"seat": "-1"}})


# --- parameters: what a service charges -------------------------------------------


def test_parses_parameters() -> None:
    assert parse_parameters({"units": ["GB-month", "vCPU-hour"]}) == MarketRateParameters(
        units=("GB-month", "vCPU-hour"))
    assert parse_parameters({"units": ["seat"], "discount_percent": "2.5"}) == (
        MarketRateParameters(units=("seat",), discount_percent=Decimal("2.5")))
    assert parse_parameters({"units": ["seat"], "discount_percent": None}).discount_percent \
        is None


def test_validate_parameters_normalises_to_json() -> None:
    assert validate_parameters({"units": ("seat", "GB-month")}) == {
        "units": ["seat", "GB-month"]}
    normalised = validate_parameters({"units": ["seat"], "discount_percent": 7.50})
    assert normalised == {"units": ["seat"], "discount_percent": "7.5"}
    assert validate_parameters(normalised) == normalised
    assert validate_parameters({"units": ["seat"], "discount_percent": None}) == {
        "units": ["seat"]}


@pytest.mark.parametrize(("parameters", "message"), [
    pytest.param({}, r"units is required", id="no-units"),
    pytest.param({"units": None}, r"units is required", id="null-units"),
    pytest.param({"units": []}, r"units must name at least one unit", id="empty-units"),
    pytest.param({"units": "GB-month"}, r"units must be a list of unit names",
                 id="units-a-string"),
    pytest.param({"units": {"GB-month": 1}}, r"units must be a list", id="units-an-object"),
    pytest.param({"units": ["GB-month", "GB-month"]}, r"units names 'GB-month' twice",
                 id="duplicate-unit"),
    pytest.param({"units": ["GB-month", 3]}, r"each of units must be a unit name",
                 id="unit-not-a-string"),
    pytest.param({"units": ["  "]}, r"each of units must be a unit name", id="blank-unit"),
    pytest.param({"units": ["GB-month "]}, r"must not start or end with spaces",
                 id="padded-unit"),
    pytest.param({"units": ["seat"], "discount_percent": "150"},
                 r"discount_percent must be from 0 to 100, not 150", id="discount-over-100"),
    pytest.param({"units": ["seat"], "discount_percent": False},
                 r"discount_percent must be a number", id="discount-bool"),
    pytest.param({"units": ["seat"], "rate": "1"},
                 r"unknown parameter 'rate': the market_rate model reads only units and "
                 r"discount_percent", id="unknown-key"),
])
def test_bad_parameters_are_refused(parameters: dict[str, Any], message: str) -> None:
    with pytest.raises(PluginSettingsError, match=message):
        validate_parameters(parameters)


def test_parameters_must_be_an_object() -> None:
    with pytest.raises(PluginSettingsError, match="must be an object"):
        validate_parameters(["seat"])  # type: ignore[arg-type]


# --- registration ----------------------------------------------------------------


def test_registers_one_billed_model() -> None:
    models = spm_charging_models()
    assert [model.name for model in models] == [MODEL_NAME] == ["market_rate"]
    model = models[0]
    assert isinstance(model, ChargingModel)
    assert model.billed is True
    assert model.charge is charge
    assert model.validate_parameters is validate_parameters
    assert model.validate_settings is validate_settings


def test_the_module_is_a_valid_plugin() -> None:
    from spm_api.plugins import hookspecs

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(spm_market_rate, name="market_rate")
    manager.check_pending()
    models = [model for result in manager.hook.spm_charging_models() for model in result]
    assert [model.name for model in models] == ["market_rate"]


@needs_installing
def test_installed_under_the_spm_api_entry_point_group() -> None:
    (entry_point,) = entry_points(group="spm_api", name="market_rate")
    assert entry_point.load() is spm_market_rate


@needs_installing
async def test_the_host_loads_validates_and_charges_with_it(
        caplog: pytest.LogCaptureFixture) -> None:
    from spm_api.plugins.host import PluginHost
    from spm_api.vocabulary.errors import DomainError, ErrorCode

    host = PluginHost.load(frozenset({"market_rate"}), timeout=2.0)
    try:
        assert "market_rate" in host.registry(CHARGING_MODELS)
        assert host.registry(CHARGING_MODELS)["market_rate"].plugin == "market_rate"

        settings = {"rates": {"GB-month": "0.12", "vCPU-hour": "0.045"},
                    "discount_percent": "5"}
        host.validate_settings("market_rate", settings)
        with pytest.raises(DomainError) as refused:
            host.validate_settings("market_rate", {"rates": {"seat": "-1"}})
        assert refused.value.problems[0].code is ErrorCode.VALIDATION
        assert refused.value.problems[0].message == (
            "plugin 'market_rate': the rate of 'seat' must be zero or more, not -1")

        params = host.check(VALIDATE_PARAMETERS,
            "market_rate", {"units": ["GB-month", "vCPU-hour"], "discount_percent": 10})
        assert params == {"units": ["GB-month", "vCPU-hour"], "discount_percent": "10"}
        with pytest.raises(DomainError) as refused:
            host.check(VALIDATE_PARAMETERS, "market_rate", {"units": []})
        assert refused.value.problems[0].code is ErrorCode.VALIDATION
        assert refused.value.problems[0].field == "parameters"

        usage = period((1, "120", "GB-month"), (1, "10", "vCPU-hour"),
                       (2, "1", "vCPU-hour"), (3, "50", "seat"))
        # 14.85 less 10 % = 13.365 → 13.37; 0.045 less 10 % = 0.0405 → 0.04
        assert await host.call(CHARGE, "market_rate", usage, params, settings) == [
            Charge(1, Decimal("13.37"),
                   "market rate: 120 GB-month × 0.12 + 10 vCPU-hour × 0.045, less 10 %"),
            Charge(2, Decimal("0.04"), "market rate: 1 vCPU-hour × 0.045, less 10 %"),
        ]

        # A unit missing from the card fails the run with PLUGIN_ERROR naming the plugin,
        # and the plugin's words are logged under the error id.
        with caplog.at_level(logging.ERROR, logger="spm_api.plugins"), \
                pytest.raises(DomainError) as failed:
            await host.call(CHARGE, "market_rate", usage, {"units": ["seat"]}, settings)
        problem = failed.value.problems[0]
        assert problem.code is ErrorCode.PLUGIN_ERROR
        assert problem.message.startswith("plugin 'market_rate' raised ValueError while "
                                          "charging 'Cloud hosting' for 2026-11")
        assert "has no price for it" in caplog.text
    finally:
        host.close()
