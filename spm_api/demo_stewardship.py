"""Demo KPIs and a decided portfolio review: every live service gets two measured KPIs
with twelve months of values (some of them breaching in the latest months) and two
built-in ones worked out from the demo books; then a review of the catalogue over those
months is opened, recommended on, voted on by the decision makers and decided by the
approval rules, its approved recommendation carried out. All through the same domain
commands as the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor
from spm_api.domain.reviews import commands as reviews
from spm_api.domain.stewardship.kpis import KpiSpec, define_kpi
from spm_api.domain.stewardship.measurements import MeasurementItem, record_measurements
from spm_api.models import Service
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import Decision, KpiDirection, KpiKind, Recommendation
from spm_api.vocabulary.periods import Period
from spm_api.vocabulary.stages import Stage

#: Measured KPIs: name, unit, direction, target, warning, breach.
MEASURED = [
    ("Availability", "%", KpiDirection.HIGHER_IS_BETTER, "99.9", "99.5", "99"),
    ("Incident resolution time", "hours", KpiDirection.LOWER_IS_BETTER, "4", "8", "12"),
]
#: Built-in KPIs: kind, name, direction, target, warning, breach.
BUILT_IN = [
    (KpiKind.COST_RECOVERY_RATE, "Cost recovery", KpiDirection.HIGHER_IS_BETTER,
     "100", "90", "75"),
    (KpiKind.BUDGET_VARIANCE, "Budget variance", KpiDirection.LOWER_IS_BETTER,
     "0", "5", "15"),
]


def months_before(today: date, count: int = 12) -> list[Period]:
    """The ``count`` months before this one, oldest first."""
    this_month = Period(today.year, today.month)
    return [this_month.shifted(-offset) for offset in range(count, 0, -1)]


def availability(number: int, month: int) -> Decimal:
    """Mostly on target; every fourth service slips below its breach threshold in the
    last two months, every fifth sits in the warning band."""
    value = Decimal("99.95") - Decimal("0.01") * ((number + month) % 4)
    if number % 4 == 1 and month >= 10:
        value = Decimal("98.70") - Decimal("0.10") * (month - 10)
    elif number % 5 == 2:
        value = Decimal("99.40")
    return value


def resolution_hours(number: int, month: int) -> Decimal:
    value = Decimal("3.5") + Decimal("0.5") * ((number * 3 + month) % 5)
    if number % 6 == 3 and month >= 9:
        value = Decimal(13 + month - 9)
    return value


async def seed_stewardship(session: AsyncSession, plugins: PluginHost, manager: Actor,
                           services: list[Service], today: date | None = None) -> None:
    months = months_before(today or date.today())
    live = [service for service in services if service.stage is Stage.LIVE]
    for number, service in enumerate(live):
        items: list[MeasurementItem] = []
        for name, unit, direction, target, warning, breach in MEASURED:
            kpi = await define_kpi(session, manager, plugins, service.id, KpiSpec(
                name=name, unit=unit, direction=direction, target=target,
                warning_threshold=warning, breach_threshold=breach))
            values = availability if name == "Availability" else resolution_hours
            items += [MeasurementItem(kpi.id, values(number, index), period=str(month),
                                      source="demo")
                      for index, month in enumerate(months)]
        await record_measurements(session, manager, items)
        for kind, name, direction, target, warning, breach in BUILT_IN:
            await define_kpi(session, manager, plugins, service.id, KpiSpec(
                name=name, kind=kind, direction=direction, target=target,
                warning_threshold=warning, breach_threshold=breach))


#: The demo review's title.
REVIEW_TITLE = "Yearly portfolio review"


async def seed_review(session: AsyncSession, plugins: PluginHost, manager: Actor,
                      deciders: list[Actor], services: list[Service],
                      today: date | None = None) -> None:
    """A decided review of the catalogue over the last twelve months: the first
    retiring service REPLACEd by the first live one (approved by every decision maker,
    so the rules approve it and the successor is set), the second live one RATIONALISEd
    into the first (rejected by two of three, so it stays as it is), every other service
    retained. Nothing is reviewed without a retiring and two live services."""
    live = [service for service in services if service.stage is Stage.LIVE]
    retiring = [service for service in services if service.stage is Stage.RETIRING]
    if len(live) < 2 or not retiring:
        return
    months = months_before(today or date.today())
    review = await reviews.open_review(session, manager, title=REVIEW_TITLE,
                                       period_from=str(months[0]),
                                       period_to=str(months[-1]))
    successor, merged = live[0], live[1]
    await reviews.recommend(session, manager, review.id, reviews.Recommend(
        retiring[0].id, Recommendation.REPLACE, successor_service_id=successor.id,
        rationale=f"{successor.name} covers what it did"))
    await reviews.recommend(session, manager, review.id, reviews.Recommend(
        merged.id, Recommendation.RATIONALISE, successor_service_id=successor.id,
        rationale=f"one platform instead of two: merge into {successor.name}"))
    for decider in deciders:
        await reviews.vote(session, decider, review.id, retiring[0].id, Decision.APPROVE,
                           "agreed")
    for decider, decision in zip(deciders, (Decision.APPROVE, Decision.REJECT,
                                            Decision.REJECT), strict=False):
        await reviews.vote(session, decider, review.id, merged.id, decision,
                           "worth it" if decision is Decision.APPROVE
                           else "its users depend on it")
    await reviews.decide_review(session, manager, plugins, review.id)
