"""An organisation's strategy settings: the rate its business cases are discounted at
and the run / grow / transform mix it aims its investment at."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor, Permission
from spm_api.models import StrategySettings
from spm_api.vocabulary.enums import InvestmentCategory
from spm_api.vocabulary.errors import DomainError, ErrorCode, Problem, fail

#: The rate a business case is discounted at until the organisation sets its own.
DEFAULT_DISCOUNT_RATE = Decimal("0.0800")
#: Rates and shares are kept to four decimal places (0.0825 is 8.25%).
PLACES = Decimal("0.0001")
ZERO, ONE = Decimal(0), Decimal(1)


@dataclass(frozen=True, slots=True)
class Strategy:
    organisation_id: int
    discount_rate: Decimal
    #: The target share of each investment category, adding up to 1; None until set.
    target_mix: Mapping[InvestmentCategory, Decimal] | None


def _strategy(organisation_id: int, row: StrategySettings | None) -> Strategy:
    if row is None:
        return Strategy(organisation_id, DEFAULT_DISCOUNT_RATE, None)
    mix = None
    if row.target_run is not None and row.target_grow is not None \
            and row.target_transform is not None:
        mix = {InvestmentCategory.RUN: row.target_run,
               InvestmentCategory.GROW: row.target_grow,
               InvestmentCategory.TRANSFORM: row.target_transform}
    return Strategy(organisation_id, row.discount_rate, mix)


async def strategy_of(session: AsyncSession, organisation_id: int) -> Strategy:
    row = await session.get(StrategySettings, organisation_id)
    return _strategy(organisation_id, row)


async def strategies(*, session: AsyncSession, organisation_id: int, ids: Sequence[int]
                     ) -> list[Strategy | None]:
    """The loaders' batch: the reader's own organisation's settings, None for another."""
    own = _strategy(organisation_id, await session.scalar(
        select(StrategySettings).where(StrategySettings.organisation_id == organisation_id)))
    return [own if key == organisation_id else None for key in ids]


def fraction(text: str, field: str) -> Decimal:
    """A decimal between 0 and 1 with at most four places, or VALIDATION on ``field``."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        raise fail(ErrorCode.VALIDATION, f"{field} must be a decimal number like 0.08, not "
                   f"{text!r}", field) from None
    if not value.is_finite() or not ZERO <= value <= ONE:
        raise fail(ErrorCode.VALIDATION, f"{field} must be between 0 and 1 (0.08 is 8%), "
                   f"not {text}", field)
    if value != value.quantize(PLACES):
        raise fail(ErrorCode.VALIDATION, f"{field} has more than four decimal places", field)
    return value.quantize(PLACES)


async def _settings_row(session: AsyncSession, organisation_id: int) -> StrategySettings:
    row = await session.get(StrategySettings, organisation_id)
    if row is None:
        row = StrategySettings(organisation_id=organisation_id,
                               discount_rate=DEFAULT_DISCOUNT_RATE)
        session.add(row)
    return row


async def set_discount_rate(session: AsyncSession, actor: Actor, rate: str) -> Strategy:
    """The rate every business case of the organisation is discounted at from now on."""
    actor.require(Permission.SET_DISCOUNT_RATE)
    value = fraction(rate, "discountRate")
    row = await _settings_row(session, actor.organisation_id)
    row.discount_rate = value
    await session.flush()
    return _strategy(actor.organisation_id, row)


async def set_target_mix(session: AsyncSession, actor: Actor, run: str, grow: str,
                         transform: str) -> Strategy:
    """The share of investment the organisation aims at per category; the three shares
    must add up to exactly 1."""
    actor.require(Permission.MANAGE_STRATEGY)
    problems: list[Problem] = []
    shares: dict[str, Decimal] = {}
    for field, text in (("run", run), ("grow", grow), ("transform", transform)):
        try:
            shares[field] = fraction(text, field)
        except DomainError as refused:
            problems.extend(refused.problems)
    if problems:
        raise DomainError(*problems)
    total = sum(shares.values(), ZERO)
    if total != ONE:
        raise DomainError(Problem(ErrorCode.VALIDATION,
                                  f"the shares add up to {total}, not 1", "transform"))
    row = await _settings_row(session, actor.organisation_id)
    row.target_run, row.target_grow, row.target_transform = (
        shares["run"], shares["grow"], shares["transform"])
    await session.flush()
    return _strategy(actor.organisation_id, row)
