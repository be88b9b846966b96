"""The seven built-in charging models, with the numbers worked out by hand: plain
ChargingPeriod objects in, Charge lines out, no database. A few cases go through the
PluginHost too, so its checks (known customers, one line each, minor units) hold."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from spm_api.plugins.builtin import BUILTIN_PLUGINS
from spm_api.plugins.builtin.finance.charging import (
    cost_plus,
    cost_recovery,
    fixed_price,
    none,
    price_per_unit,
    showback,
    tiered,
)
from spm_api.plugins.contracts import (
    CHARGE,
    CHARGING_MODELS,
    VALIDATE_PARAMETERS,
    Charge,
    ChargeableUsage,
    ChargingModel,
    ChargingPeriod,
    PluginSettingsError,
)
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.errors import DomainError, ErrorCode

D = Decimal
MODELS = ("none", "showback", "cost_recovery", "cost_plus", "fixed_price", "price_per_unit",
          "tiered")
TIERS = [{"up_to": "100", "unit_price": "1.00"},
         {"up_to": "500", "unit_price": "0.80"},
         {"up_to": None, "unit_price": "0.50"}]


def period(cost: str, *usage: tuple[int, str, str], currency: str = "EUR") -> ChargingPeriod:
    """Service 7 in November 2026; ``usage`` as (customer, quantity, unit)."""
    return ChargingPeriod(
        service_id=7, service_name="Storage", period="2026-11", currency=currency,
        actual_cost=D(cost),
        usage=tuple(ChargeableUsage(customer, D(quantity), unit)
                    for customer, quantity, unit in usage))


def amounts(charges: Sequence[Charge]) -> dict[int, Decimal]:
    return {charge.customer_id: charge.amount for charge in charges}


def equal_users(cost: str, currency: str = "EUR") -> ChargingPeriod:
    return period(cost, (1, "1", "GB"), (2, "1", "GB"), (3, "1", "GB"), currency=currency)


# --- registration --------------------------------------------------------------------


def test_each_model_is_its_own_builtin_plugin(plugins: PluginHost) -> None:
    models = plugins.registry(CHARGING_MODELS)
    assert {name: registered.plugin for name, registered in models.items()} == {
        name: f"spm_api.charging.{name}" for name in MODELS}
    for name in MODELS:
        assert f"spm_api.charging.{name}" in BUILTIN_PLUGINS
        model = plugins.registry(CHARGING_MODELS)[name].item
        assert isinstance(model, ChargingModel)
        assert model.billed is (name != "showback")
        assert model.title and model.description


# --- none ----------------------------------------------------------------------------


def test_none_never_charges() -> None:
    assert none.validate_parameters({}) == {}
    assert none.charge(period("1000.00", (1, "5", "GB")), {}, {}) == []
    with pytest.raises(PluginSettingsError, match="unknown parameter 'price'"):
        none.validate_parameters({"price": "5"})


# --- showback and cost recovery --------------------------------------------------------


def test_cost_recovery_of_100_over_three_equal_users_adds_up_exactly() -> None:
    # 100.00 / 3 = 33.333… each; floors 33.33 * 3 = 99.99; the one cent left goes to
    # the largest fraction, all equal, so to the first customer.
    charges = cost_recovery.charge(equal_users("100.00"), {}, {})
    assert amounts(charges) == {1: D("33.34"), 2: D("33.33"), 3: D("33.33")}
    assert sum(amounts(charges).values()) == D("100.00")


def test_the_remainder_goes_to_the_largest_fraction_not_the_first_customer() -> None:
    # Weights 2 : 1 : 3 of 100.00 → 33.3333…, 16.6666…, 50.00; floors 33.33 + 16.66 +
    # 50.00 = 99.99; fractions 0.0033, 0.0067, 0 → the cent goes to customer 2.
    charges = cost_recovery.charge(
        period("100.00", (1, "2", "GB"), (2, "1", "GB"), (3, "3", "GB")), {}, {})
    assert amounts(charges) == {1: D("33.33"), 2: D("16.67"), 3: D("50.00")}


def test_cost_recovery_in_yen_has_no_minor_unit() -> None:
    # 1000 JPY by 1 : 2 : 4 → 142.857, 285.714, 571.428; floors 142 + 285 + 571 = 998;
    # the 2 yen left go to the two largest fractions (.857, .714): customers 1 and 2.
    charges = cost_recovery.charge(
        period("1000", (1, "1", "h"), (2, "2", "h"), (3, "4", "h"), currency="JPY"), {}, {})
    assert amounts(charges) == {1: D("143"), 2: D("286"), 3: D("571")}


def test_cost_recovery_in_dinar_has_three_decimals() -> None:
    # 99.999 BHD by 1 : 2 → 33.333 and 66.666, already exact to the fils.
    charges = cost_recovery.charge(
        period("99.999", (1, "1", "GB"), (2, "2", "GB"), currency="BHD"), {}, {})
    assert amounts(charges) == {1: D("33.333"), 2: D("66.666")}


def test_a_credit_is_shared_like_a_cost() -> None:
    # -100.00 / 3: the same split, negative.
    charges = cost_recovery.charge(equal_users("-100.00"), {}, {})
    assert amounts(charges) == {1: D("-33.34"), 2: D("-33.33"), 3: D("-33.33")}


def test_cost_recovery_description_says_how_the_share_was_computed() -> None:
    # 1000.00 EUR by 120 : 280 GB → 300.00 and 700.00.
    charges = cost_recovery.charge(
        period("1000", (1, "120", "GB"), (2, "280.0000", "GB")), {}, {})
    assert charges == [
        Charge(1, D("300.00"), "cost recovery: 120 of 400 GB, share of 1000.00 EUR"),
        Charge(2, D("700.00"), "cost recovery: 280 of 400 GB, share of 1000.00 EUR"),
    ]


def test_the_unit_filter_counts_only_usage_in_that_unit() -> None:
    usage = period("100.00", (1, "10", "GB"), (1, "5", "h"), (2, "30", "GB"), (3, "8", "h"))
    # GB only: 10 : 30 of 100.00 → 25.00 and 75.00; customer 3 used no GB: no line.
    assert amounts(cost_recovery.charge(usage, {"unit": "GB"}, {})) == {
        1: D("25.00"), 2: D("75.00")}
    # Every unit: 15 : 30 : 8 of 100.00 → 28.3018…, 56.6037…, 15.0943… → floors 28.30 +
    # 56.60 + 15.09 = 99.99; the largest fraction (0.0043, customer 3) gets the cent.
    assert amounts(cost_recovery.charge(usage, {}, {})) == {
        1: D("28.30"), 2: D("56.60"), 3: D("15.10")}


def test_no_usage_or_no_cost_means_no_lines() -> None:
    for model in (showback, cost_recovery):
        assert model.charge(period("1000.00"), {}, {}) == []
        assert model.charge(period("0.00", (1, "5", "GB")), {}, {}) == []
        assert model.charge(period("1000.00", (1, "0", "GB")), {}, {}) == []
    assert cost_plus.charge(period("1000.00"), {"markup_percent": "10"}, {}) == []


def test_a_customer_with_zero_quantity_gets_no_line() -> None:
    charges = cost_recovery.charge(period("90.00", (1, "3", "GB"), (2, "0", "GB")), {}, {})
    assert amounts(charges) == {1: D("90.00")}


def test_showback_shares_the_cost_without_billing_it() -> None:
    # 1000.00 EUR by 1 : 3 → 250.00 and 750.00, reported, not billed.
    charges = showback.charge(period("1000.00", (1, "1", "GB"), (2, "3", "GB")), {}, {})
    assert amounts(charges) == {1: D("250.00"), 2: D("750.00")}
    assert charges[0].description == (
        "showback (not billed): 1 of 4 GB, share of 1000.00 EUR")
    assert showback.spm_charging_models()[0].billed is False
    assert cost_recovery.spm_charging_models()[0].billed is True


# --- cost plus -----------------------------------------------------------------------


def test_cost_plus_ten_percent_shared_one_to_two() -> None:
    # 1000.00 * 1.10 = 1100.00; by 1 : 2 → 366.666…, 733.333…; floors 366.66 + 733.33 =
    # 1099.99; the larger fraction (0.0067, customer 1) gets the cent.
    charges = cost_plus.charge(period("1000.00", (1, "1", "GB"), (2, "2", "GB")),
                               {"markup_percent": "10"}, {})
    assert amounts(charges) == {1: D("366.67"), 2: D("733.33")}
    assert sum(amounts(charges).values()) == D("1100.00")
    assert charges[0].description == (
        "cost plus: 1 of 3 GB, share of 1100.00 EUR (actual cost 1000.00 EUR plus 10 %)")


def test_cost_plus_rounds_the_marked_up_total_once() -> None:
    # 0.05 * 1.125 = 0.05625 → 0.06 (half-up); by 1 : 1 → 0.03 and 0.03.
    charges = cost_plus.charge(period("0.05", (1, "1", "GB"), (2, "1", "GB")),
                               {"markup_percent": "12.5"}, {})
    assert amounts(charges) == {1: D("0.03"), 2: D("0.03")}


def test_cost_plus_in_yen() -> None:
    # 1001 JPY * 1.07 = 1071.07 → 1071; by 1 : 1 → 535.5 each → 536 and 535.
    charges = cost_plus.charge(period("1001", (1, "1", "h"), (2, "1", "h"), currency="JPY"),
                               {"markup_percent": 7}, {})
    assert amounts(charges) == {1: D("536"), 2: D("535")}


# --- fixed price ---------------------------------------------------------------------


def test_fixed_price_charges_each_customer_who_used_the_service() -> None:
    usage = period("0", (1, "1", "seat"), (2, "250", "seat"), (3, "0", "seat"))
    charges = fixed_price.charge(usage, {"price": "500.00"}, {})
    assert charges == [Charge(1, D("500.00"), "fixed price: 500.00 EUR for 2026-11"),
                       Charge(2, D("500.00"), "fixed price: 500.00 EUR for 2026-11")]
    assert fixed_price.charge(period("0"), {"price": "500.00"}, {}) == []


def test_fixed_price_is_rounded_to_the_currency_when_charged() -> None:
    # The policy does not know the currency: 500.5 is 501 JPY (half-up), 19.9999 is
    # 20.000 BHD, 9.995 is 10.00 EUR.
    assert amounts(fixed_price.charge(period("0", (1, "1", "u"), currency="JPY"),
                                      {"price": "500.5"}, {})) == {1: D("501")}
    assert amounts(fixed_price.charge(period("0", (1, "1", "u"), currency="BHD"),
                                      {"price": "19.9999"}, {})) == {1: D("20.000")}
    assert amounts(fixed_price.charge(period("0", (1, "1", "u")),
                                      {"price": "9.995"}, {})) == {1: D("10.00")}


# --- price per unit ------------------------------------------------------------------


def test_price_per_unit_rounds_half_up() -> None:
    # 1 * 0.125 = 0.125 → 0.13; 3 * 0.125 = 0.375 → 0.38; 2 * 0.125 = 0.25.
    usage = period("0", (1, "1", "GB"), (2, "3", "GB"), (3, "2", "GB"))
    charges = price_per_unit.charge(usage, {"unit_price": "0.125"}, {})
    assert amounts(charges) == {1: D("0.13"), 2: D("0.38"), 3: D("0.25")}
    assert charges[1].description == "price per unit: 3 GB at 0.125 EUR each"


def test_price_per_unit_in_yen_and_dinar() -> None:
    # 3 * 2.5 = 7.5 → 8 JPY; 5 * 0.1235 = 0.6175 → 0.618 BHD.
    assert amounts(price_per_unit.charge(period("0", (1, "3", "h"), currency="JPY"),
                                         {"unit_price": "2.5"}, {})) == {1: D("8")}
    assert amounts(price_per_unit.charge(period("0", (1, "5", "h"), currency="BHD"),
                                         {"unit_price": "0.1235"}, {})) == {1: D("0.618")}


def test_price_per_unit_with_a_unit_filter() -> None:
    # GB only: 10 * 0.25 = 2.50 and 30 * 0.25 = 7.50; customer 3 used hours only.
    usage = period("0", (1, "10", "GB"), (1, "5", "h"), (2, "30", "GB"), (3, "8", "h"))
    assert amounts(price_per_unit.charge(usage, {"unit_price": "0.25", "unit": "GB"}, {})) == {
        1: D("2.50"), 2: D("7.50")}


# --- tiered --------------------------------------------------------------------------


def test_tiered_prices_each_tier_separately() -> None:
    # First 100 at 1.00, 100-500 at 0.80, above 500 at 0.50:
    #   50  → 50 * 1.00                                = 50.00
    #   100 → 100 * 1.00                               = 100.00
    #   150 → 100 * 1.00 + 50 * 0.80                   = 140.00
    #   600 → 100 * 1.00 + 400 * 0.80 + 100 * 0.50     = 470.00
    usage = period("0", (1, "50", "GB"), (2, "100", "GB"), (3, "150", "GB"), (4, "600", "GB"))
    charges = tiered.charge(usage, {"tiers": TIERS}, {})
    assert amounts(charges) == {1: D("50.00"), 2: D("100.00"), 3: D("140.00"),
                                4: D("470.00")}
    assert charges[3].description == (
        "tiered: 600 GB priced 100 at 1.00 EUR, 400 at 0.80 EUR, 100 at 0.50 EUR")


def test_tiered_with_fractional_quantities_and_a_unit_filter() -> None:
    # GB only: 100.5 → 100 * 1.00 + 0.5 * 0.80 = 100.40; the hours do not count.
    usage = period("0", (1, "100.5", "GB"), (1, "1000", "h"))
    assert amounts(tiered.charge(usage, {"tiers": TIERS, "unit": "GB"}, {})) == {
        1: D("100.40")}


def test_tiered_rounds_the_customer_total_once() -> None:
    # 2 units: 1 * 0.005 + 1 * 0.005 = 0.010 → 0.01 (rounding each tier would say 0.02).
    tiers = [{"up_to": "1", "unit_price": "0.005"}, {"up_to": None, "unit_price": "0.005"}]
    assert amounts(tiered.charge(period("0", (1, "2", "u")), {"tiers": tiers}, {})) == {
        1: D("0.01")}


def test_a_single_open_tier_is_a_unit_price() -> None:
    # 7 * 3 = 21 JPY.
    tiers = [{"up_to": None, "unit_price": 3}]
    assert amounts(tiered.charge(period("0", (1, "7", "h"), currency="JPY"),
                                 {"tiers": tiers}, {})) == {1: D("21")}


# --- parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(("model", "parameters", "normalised"), [
    (showback, {}, {}),
    (showback, {"unit": " GB "}, {"unit": "GB"}),
    (cost_recovery, {"unit": None}, {}),
    (cost_plus, {"markup_percent": 10}, {"markup_percent": "10"}),
    (cost_plus, {"markup_percent": 12.5, "unit": "h"}, {"markup_percent": "12.5", "unit": "h"}),
    (cost_plus, {"markup_percent": "1E+1"}, {"markup_percent": "10"}),
    (cost_plus, {"markup_percent": "-0"}, {"markup_percent": "0"}),
    (fixed_price, {"price": " 500.00 "}, {"price": "500.00"}),
    (price_per_unit, {"unit_price": 0.25}, {"unit_price": "0.25"}),
    (tiered, {"tiers": [{"up_to": 100, "unit_price": "1.00"}, {"unit_price": 0.8}]},
     {"tiers": [{"up_to": "100", "unit_price": "1.00"}, {"up_to": None, "unit_price": "0.8"}]}),
])
def test_parameters_are_normalised(model: Any, parameters: dict[str, Any],
                                   normalised: dict[str, Any]) -> None:
    assert model.validate_parameters(parameters) == normalised


@pytest.mark.parametrize(("model", "parameters", "message"), [
    (none, {"unit": "GB"}, "unknown parameter 'unit': the none model reads no parameters"),
    (showback, {"units": "GB"}, "unknown parameter 'units': the showback model reads only unit"),
    (showback, {"unit": ""}, "unit must be the name of a usage unit"),
    (cost_recovery, {"unit": 5}, "unit must be the name of a usage unit"),
    (cost_recovery, [], "the cost_recovery parameters must be an object, not list"),
    (cost_plus, {}, "markup_percent is required"),
    (cost_plus, {"markup_percent": "abc"}, "markup_percent must be a number, not 'abc'"),
    (cost_plus, {"markup_percent": True}, "markup_percent must be a number, not True"),
    (cost_plus, {"markup_percent": "-5"}, "markup_percent must be zero or more, not '-5'"),
    (cost_plus, {"markup_percent": "NaN"}, "markup_percent must be a number, not 'NaN'"),
    (cost_plus, {"markup_percent": float("inf")}, "markup_percent must be a number, not inf"),
    (cost_plus, {"markup_percent": "1e999999"}, "markup_percent is too large"),
    (cost_plus, {"markup_percent": [10]}, "markup_percent must be a number, not [10]"),
    (cost_plus, {"markup": "10"}, "unknown parameter 'markup'"),
    (fixed_price, {"price": None}, "price is required"),
    (fixed_price, {"price": "500,00"}, "price must be a number, not '500,00'"),
    (price_per_unit, {"price": "1"}, "unknown parameter 'price'"),
    (price_per_unit, {"unit_price": "-0.01"}, "unit_price must be zero or more"),
    (tiered, {}, "tiers must be a list of at least one tier"),
    (tiered, {"tiers": []}, "tiers must be a list of at least one tier"),
    (tiered, {"tiers": ["1.00"]}, "tier 1 must be an object with up_to and unit_price"),
    (tiered, {"tiers": [{"up_to": None}]}, "tier 1: unit_price is required"),
    (tiered, {"tiers": [{"up_to": None, "unit_price": "x"}]},
     "tier 1 unit_price must be a number, not 'x'"),
    (tiered, {"tiers": [{"up_to": None, "unit_price": "1", "price": "2"}]},
     "tier 1: unknown key 'price'"),
    (tiered, {"tiers": [{"up_to": "100", "unit_price": "1"}]},
     "the last tier must have up_to null"),
    (tiered, {"tiers": [{"up_to": None, "unit_price": "1"}, {"up_to": None, "unit_price": "1"}]},
     "tier 1: only the last tier may have no up_to"),
    (tiered, {"tiers": [{"up_to": "100", "unit_price": "1"}, {"up_to": "100", "unit_price": "1"},
                        {"up_to": None, "unit_price": "1"}]},
     "tier 2: up_to must be more than 100 (where the previous tier stops), not '100'"),
    (tiered, {"tiers": [{"up_to": "0", "unit_price": "1"}, {"up_to": None, "unit_price": "1"}]},
     "tier 1: up_to must be more than 0 (where the first tier starts)"),
])
def test_bad_parameters_are_refused_in_words(model: Any, parameters: Any, message: str) -> None:
    with pytest.raises(PluginSettingsError) as refused:
        model.validate_parameters(parameters)
    assert message in str(refused.value)


# --- through the host ----------------------------------------------------------------


@pytest.mark.parametrize(("model", "parameters", "expected"), [
    # 100.00 / 3 → 33.34, 33.33, 33.33.
    ("cost_recovery", {}, {1: D("33.34"), 2: D("33.33"), 3: D("33.33")}),
    # 100.00 * 1.10 = 110.00 / 3 → 36.67, 36.67, 36.66 (36.6666…: floors 36.66 * 3 =
    # 109.98, two cents left, to the first two of three equal fractions).
    ("cost_plus", {"markup_percent": "10"}, {1: D("36.67"), 2: D("36.67"), 3: D("36.66")}),
    ("fixed_price", {"price": "9.999"}, {1: D("10.00"), 2: D("10.00"), 3: D("10.00")}),
    ("price_per_unit", {"unit_price": "0.125"}, {1: D("0.13"), 2: D("0.13"), 3: D("0.13")}),
    ("tiered", {"tiers": TIERS}, {1: D("1.00"), 2: D("1.00"), 3: D("1.00")}),
    ("showback", {}, {1: D("33.34"), 2: D("33.33"), 3: D("33.33")}),
    ("none", {}, {}),
])
async def test_every_model_passes_the_hosts_checks(
    plugins: PluginHost, model: str, parameters: dict[str, Any], expected: dict[int, Decimal],
) -> None:
    stored = plugins.check(VALIDATE_PARAMETERS, model, parameters)
    charges = await plugins.call(CHARGE, model, equal_users("100.00"), stored, {})
    assert amounts(charges) == expected


async def test_yen_and_dinar_through_the_host(plugins: PluginHost) -> None:
    # 100 JPY / 3 → 34, 33, 33; 1.000 BHD / 3 → 0.334, 0.333, 0.333.
    yen = await plugins.call(CHARGE, "cost_recovery", equal_users("100", "JPY"), {}, {})
    assert amounts(yen) == {1: D("34"), 2: D("33"), 3: D("33")}
    dinar = await plugins.call(CHARGE, "cost_recovery", equal_users("1.000", "BHD"), {}, {})
    assert amounts(dinar) == {1: D("0.334"), 2: D("0.333"), 3: D("0.333")}


def test_bad_parameters_through_the_host_are_a_validation_error(plugins: PluginHost) -> None:
    with pytest.raises(DomainError) as refused:
        plugins.check(VALIDATE_PARAMETERS, "cost_plus", {"markup_percent": "abc"})
    [problem] = refused.value.problems
    assert problem.code is ErrorCode.VALIDATION
    assert problem.field == "parameters"
    assert problem.message == (
        "charging model 'cost_plus': markup_percent must be a number, not 'abc'")


async def test_parameters_broken_after_they_were_stored_fail_the_run(plugins: PluginHost) -> None:
    with pytest.raises(DomainError) as failed:
        await plugins.call(CHARGE, "fixed_price", equal_users("0"), {"price": "lots"}, {})
    [problem] = failed.value.problems
    assert problem.code is ErrorCode.PLUGIN_ERROR
    assert "spm_api.charging.fixed_price" in problem.message


@pytest.mark.parametrize("currency", ["EUR", "JPY", "BHD"])
@pytest.mark.parametrize("cost", ["1000.00", "0.07", "-12.34", "99999.99"])
async def test_shares_always_add_up_to_the_cost(plugins: PluginHost, currency: str, cost: str
                                                ) -> None:
    usage = period(cost, (1, "3", "GB"), (2, "7.25", "GB"), (3, "0.5", "GB"), (4, "11", "GB"),
                   currency=currency)
    recovered = await plugins.call(CHARGE, "cost_recovery", usage, {}, {})
    assert sum(amounts(recovered).values()) == usage.round(D(cost))
    marked_up = await plugins.call(CHARGE, "cost_plus", usage, {"markup_percent": "3.5"}, {})
    assert sum(amounts(marked_up).values()) == usage.round(D(cost) * D("1.035"))
