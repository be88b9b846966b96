"""The figures of a business case, from its yearly cash flows: NPV, payback, ROI and
total cost of ownership. Pure arithmetic on exact decimals, no database.

Rounding rule: every figure is worked out exactly (``Decimal`` at 34 significant
digits, so the only inexact step is the division by each year's discount factor) and
rounded once, at the end, half-up: money to the currency's minor unit, the ROI to four
decimal places (0.3077 is 30.77%), the payback period to two decimal places of a year.
The first fiscal year of the case is year 0 and is not discounted; year ``t`` is divided
by ``(1 + rate) ** t``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from spm_api.vocabulary.money import rounded

ZERO = Decimal(0)
PRECISION = 34
FOUR_PLACES = Decimal("0.0001")
TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CashFlow:
    """One fiscal year of a case: what goes out (investment, running cost) and comes in."""

    fiscal_year: int
    investment: Decimal
    running_cost: Decimal
    benefit: Decimal

    @property
    def cost(self) -> Decimal:
        return self.investment + self.running_cost

    @property
    def net(self) -> Decimal:
        return self.benefit - self.cost


@dataclass(frozen=True, slots=True)
class YearFigures:
    flow: CashFlow
    #: The year's net cash flow divided by its discount factor, rounded to minor units.
    present_value: Decimal
    #: Net cash flow of the case up to and including this year, undiscounted.
    cumulative: Decimal


@dataclass(frozen=True, slots=True)
class Figures:
    years: tuple[YearFigures, ...]
    discount_rate: Decimal
    npv: Decimal
    total_cost_of_ownership: Decimal
    total_benefit: Decimal
    #: (benefit - TCO) / TCO; None when the case costs nothing.
    roi: Decimal | None
    #: Years from the start of the first fiscal year until the cumulative net cash flow
    #: reaches zero, the flow spread evenly over each year; None: it never does.
    payback_years: Decimal | None
    payback_fiscal_year: int | None


def evaluate(flows: Sequence[CashFlow], discount_rate: Decimal, currency: str) -> Figures:
    """The figures of consecutive yearly cash flows (oldest first) at ``discount_rate``
    (a fraction: 0.08 is 8%)."""
    ordered = sorted(flows, key=lambda flow: flow.fiscal_year)
    with localcontext() as context:
        context.prec = PRECISION
        context.rounding = ROUND_HALF_UP
        factor = 1 + discount_rate
        exact_npv = ZERO
        years = []
        cumulative = ZERO
        for t, flow in enumerate(ordered):
            value = flow.net / factor ** t
            exact_npv += value
            cumulative += flow.net
            years.append(YearFigures(flow, rounded(value, currency), cumulative))
        tco = sum((flow.cost for flow in ordered), ZERO)
        benefit = sum((flow.benefit for flow in ordered), ZERO)
        roi = None if tco == 0 else ((benefit - tco) / tco).quantize(FOUR_PLACES)
        payback, payback_year = _payback(ordered)
    return Figures(tuple(years), discount_rate, rounded(exact_npv, currency),
                   rounded(tco, currency), rounded(benefit, currency), roi, payback,
                   payback_year)


def _payback(flows: Sequence[CashFlow]) -> tuple[Decimal | None, int | None]:
    """The first time the cumulative net cash flow reaches zero, interpolated within
    the year it does (its flow spread evenly over the year)."""
    before = ZERO
    for t, flow in enumerate(flows):
        after = before + flow.net
        if after >= 0:
            if before >= 0:  # nothing to pay back: the first year starts even
                return ZERO.quantize(TWO_PLACES), flow.fiscal_year
            return (t + -before / flow.net).quantize(TWO_PLACES), flow.fiscal_year
        before = after
    return None, None
