"""Months as accounting periods, and the fiscal quarters and years derived from them."""

from __future__ import annotations

import pytest

from spm_api.vocabulary.errors import DomainError
from spm_api.vocabulary.periods import Period, fiscal_year_months


def test_months_parse_and_print() -> None:
    assert Period.parse("2026-11") == Period(2026, 11)
    assert str(Period(2026, 1)) == "2026-01"
    assert Period(2026, 11).shifted(2) == Period(2027, 1)
    assert Period(2026, 1).shifted(-1) == Period(2025, 12)
    assert sorted([Period(2027, 1), Period(2026, 12)]) == [Period(2026, 12), Period(2027, 1)]


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-11", "2026/11", "", "november"])
def test_malformed_months_are_refused_with_the_field(text: str) -> None:
    with pytest.raises(DomainError) as refused:
        Period.parse(text, "period")
    [problem] = refused.value.problems
    assert (problem.code.value, problem.field) == ("VALIDATION", "period")
    assert "YYYY-MM" in problem.message


@pytest.mark.parametrize(("month", "start", "year", "quarter"), [
    ("2026-01", 1, 2026, 1),
    ("2026-12", 1, 2026, 4),
    ("2026-03", 4, 2026, 4),   # April start: March closes FY2026
    ("2026-04", 4, 2027, 1),   # and April opens FY2027
    ("2026-09", 10, 2026, 4),  # US federal year
    ("2026-10", 10, 2027, 1),
    ("2027-01", 7, 2027, 3),
])
def test_fiscal_year_and_quarter(month: str, start: int, year: int, quarter: int) -> None:
    period = Period.parse(month)
    assert period.fiscal_year(start) == year
    assert period.fiscal_quarter(start) == quarter


def test_fiscal_year_months_round_trip() -> None:
    months = fiscal_year_months(2027, 4)
    assert (str(months[0]), str(months[-1])) == ("2026-04", "2027-03")
    assert {m.fiscal_year(4) for m in months} == {2027}
    assert [m.fiscal_quarter(4) for m in months] == [q for q in (1, 2, 3, 4) for _ in range(3)]
    assert [str(m) for m in fiscal_year_months(2026, 1)][::11] == ["2026-01", "2026-12"]


def test_fiscal_start_month_is_checked() -> None:
    with pytest.raises(DomainError):
        Period(2026, 1).fiscal_year(13)
