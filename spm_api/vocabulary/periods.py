"""Accounting periods: calendar months (``2026-11``), with the fiscal quarter and year
derived from the month an organisation's fiscal year starts in.

A fiscal year is named after the calendar year it ends in (a year that starts in
April 2026 is FY2027); with a January start it is the calendar year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spm_api.vocabulary.errors import ErrorCode, fail

_PATTERN = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, order=True, slots=True)
class Period:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str, field: str = "period") -> Period:
        match = _PATTERN.fullmatch(text.strip())
        if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1900:
            raise fail(ErrorCode.VALIDATION,
                       f"{field} must be a month written YYYY-MM, like 2026-11, not {text!r}",
                       field)
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def shifted(self, months: int) -> Period:
        index = self.year * 12 + (self.month - 1) + months
        return Period(index // 12, index % 12 + 1)

    def fiscal_year(self, start_month: int) -> int:
        """The fiscal year this month belongs to, named by the year it ends in."""
        _check_start(start_month)
        if start_month == 1 or self.month < start_month:
            return self.year
        return self.year + 1

    def fiscal_quarter(self, start_month: int) -> int:
        _check_start(start_month)
        return (self.month - start_month) % 12 // 3 + 1


def fiscal_year_months(fiscal_year: int, start_month: int) -> list[Period]:
    """The twelve months of a fiscal year, in order."""
    _check_start(start_month)
    first = Period(fiscal_year if start_month == 1 else fiscal_year - 1, start_month)
    return [first.shifted(offset) for offset in range(12)]


def _check_start(start_month: int) -> None:
    if not 1 <= start_month <= 12:
        raise fail(ErrorCode.VALIDATION,
                   f"the fiscal year starts in a month 1-12, not {start_month}",
                   "fiscalYearStartMonth")
