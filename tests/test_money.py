"""Money is exact: ISO 4217 currencies, their minor units, and shares that add up."""

from __future__ import annotations

from decimal import Decimal

import pytest

from spm_api.vocabulary.errors import DomainError
from spm_api.vocabulary.money import Money, allocate, currency_code, minor_unit, rounded

D = Decimal


def test_currency_codes_and_minor_units() -> None:
    assert currency_code(" eur ") == "EUR"
    assert (minor_unit("EUR"), minor_unit("JPY"), minor_unit("BHD")) == (
        D("0.01"), D("1"), D("0.001"))
    with pytest.raises(DomainError) as refused:
        currency_code("EURO", "currency")
    assert refused.value.problems[0].field == "currency"


def test_parse_is_exact_and_refuses_sub_minor_digits() -> None:
    assert Money.parse("10.5", "EUR") == Money(D("10.50"), "EUR")
    assert Money.parse("1000", "JPY").amount == D("1000")
    for amount, currency in (("10.005", "EUR"), ("0.5", "JPY"), ("abc", "EUR"),
                             ("NaN", "EUR"), ("Infinity", "EUR")):
        with pytest.raises(DomainError) as refused:
            Money.parse(amount, currency, "amount")
        [problem] = refused.value.problems
        assert (problem.code.value, problem.field) == ("VALIDATION", "amount")


def test_another_currency_is_refused_with_both_named() -> None:
    with pytest.raises(DomainError) as refused:
        Money.parse("5", "USD").require_currency("EUR", "amount")
    [problem] = refused.value.problems
    assert problem.code.value == "CURRENCY_MISMATCH"
    assert "USD" in problem.message and "EUR" in problem.message


def test_rounding_is_half_up_to_the_minor_unit() -> None:
    assert rounded(D("0.125"), "EUR") == D("0.13")
    assert rounded(D("0.124"), "EUR") == D("0.12")
    assert rounded(D("2.5"), "JPY") == D("3")


@pytest.mark.parametrize(("total", "weights", "currency", "expected"), [
    ("100.00", ["1", "1", "1"], "EUR", ["33.34", "33.33", "33.33"]),
    ("0.05", ["1", "1"], "EUR", ["0.03", "0.02"]),
    ("10.00", ["3", "0", "7"], "EUR", ["3.00", "0.00", "7.00"]),
    ("1000", ["1", "2", "4"], "JPY", ["143", "286", "571"]),
    ("-100.00", ["1", "1", "1"], "EUR", ["-33.34", "-33.33", "-33.33"]),
    ("99.999", ["1", "2"], "BHD", ["33.333", "66.666"]),
])
def test_allocation_adds_up_exactly(total: str, weights: list[str], currency: str,
                                    expected: list[str]) -> None:
    shares = allocate(D(total), [D(w) for w in weights], currency)
    assert shares == [D(e) for e in expected]
    assert sum(shares, D(0)) == rounded(D(total), currency)


def test_allocation_needs_positive_weights() -> None:
    assert allocate(D("1"), [], "EUR") == []
    with pytest.raises(ValueError):
        allocate(D("1"), [D(0), D(0)], "EUR")
    with pytest.raises(ValueError):
        allocate(D("1"), [D(-1), D(2)], "EUR")
