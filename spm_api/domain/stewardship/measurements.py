"""Recording KPI values: one, or a batch that is written whole or not at all, every bad
item reported with its index. A value that takes a KPI past its breach threshold (the
KPI's newest value, where the one before was not past it) records ``KpiBreached``,
published once the transaction commits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain import events
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.stewardship.computed import start_of
from spm_api.domain.stewardship.readings import current_values
from spm_api.models import Kpi, Measurement, Service
from spm_api.vocabulary.enums import KpiKind
from spm_api.vocabulary.errors import DomainError, ErrorCode, Problem, fail
from spm_api.vocabulary.measures import measured_value, worse
from spm_api.vocabulary.periods import Period
from spm_api.vocabulary.stages import CLOSED_STAGES, Stage
from spm_api.vocabulary.validation import optional_text

#: A batch holds at most this many values (a CSV import is not limited).
MAX_BATCH = 1000
#: How far ahead of this server's clock a measurement's time may be.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class MeasurementItem:
    """One value to record: for a month (``period``, ``YYYY-MM``) or at an instant."""

    kpi_id: int
    value: Decimal | str
    period: str | None = None
    at: datetime | None = None
    source: str = "manual"


@dataclass(frozen=True, slots=True)
class _Checked:
    kpi: Kpi
    period: str | None
    at: datetime
    value: Decimal
    source: str


async def record_measurement(session: AsyncSession, actor: Actor, item: MeasurementItem
                             ) -> Measurement:
    """Record one value; its problems are reported on the input's own fields."""
    actor.require(Permission.MANAGE_KPIS)
    checked, failures = await check_items(session, actor.organisation_id, [item])
    if failures:
        raise failures[0][1]
    return (await write(session, actor.organisation_id, checked, actor.person_id))[0]


async def record_measurements(session: AsyncSession, actor: Actor,
                              items: Sequence[MeasurementItem]) -> list[Measurement]:
    """Record every value or none: each bad item is reported with its index
    (``measurements.3.value``)."""
    actor.require(Permission.MANAGE_KPIS)
    if not items:
        raise fail(ErrorCode.VALIDATION, "send at least one measurement", "measurements")
    if len(items) > MAX_BATCH:
        raise fail(ErrorCode.VALIDATION,
                   f"send at most {MAX_BATCH} measurements at once, not {len(items)}",
                   "measurements")
    checked, failures = await check_items(session, actor.organisation_id, items)
    if failures:
        raise DomainError(*(
            Problem(problem.code, f"measurement {index}: {problem.message}",
                    f"measurements.{index}.{problem.field or 'kpiId'}")
            for index, error in failures for problem in error.problems))
    return await write(session, actor.organisation_id, checked, actor.person_id)


async def check_items(session: AsyncSession, organisation_id: int,
                      items: Sequence[MeasurementItem], *, kpis: dict[int, Kpi] | None = None,
                      skip_recorded: bool = False,
                      named: Callable[[int], str] = lambda index: f"measurement {index}"
                      ) -> tuple[list[_Checked], list[tuple[int, DomainError]]]:
    """Every item checked (three statements whatever their number): the good ones, and
    each bad one's index with its problems. A KPI and time given twice, in the batch or
    already recorded, is refused; with ``skip_recorded`` one already recorded is left
    out instead (a source answering the same sample twice). ``named`` says which item
    an index is, for the words about one given twice."""
    if kpis is None:
        kpis = {kpi.id: kpi for kpi in await session.scalars(select(Kpi).where(
            Kpi.organisation_id == organisation_id,
            Kpi.id.in_({item.kpi_id for item in items})))}
    stages = dict((await session.execute(select(Service.id, Service.stage).where(
        Service.organisation_id == organisation_id,
        Service.id.in_({kpi.service_id for kpi in kpis.values()})))).all())
    now = utcnow()
    this_month = Period(now.year, now.month)
    checked: list[tuple[int, _Checked]] = []
    failures: list[tuple[int, DomainError]] = []
    for index, item in enumerate(items):
        try:
            checked.append((index, _check(item, kpis, stages, now, this_month)))
        except DomainError as error:
            failures.append((index, error))
    seen: dict[tuple[int, datetime], int] = {}
    recorded: set[tuple[int, datetime]] = set()
    if checked:
        keys = {(one.kpi.id, one.at) for _, one in checked}
        recorded = {(kpi_id, _utc(at)) for kpi_id, at in await session.execute(
            select(Measurement.kpi_id, Measurement.at).where(
                Measurement.organisation_id == organisation_id,
                Measurement.kpi_id.in_({kpi_id for kpi_id, _ in keys}),
                Measurement.at.in_({at for _, at in keys})))}
    good: list[_Checked] = []
    for index, one in checked:
        key = (one.kpi.id, one.at)
        when = one.period or one.at.isoformat()
        if key in recorded and skip_recorded:
            continue
        if key in recorded:
            failures.append((index, fail(
                ErrorCode.VALIDATION, f"{one.kpi.name!r} already has a value for {when}",
                "period" if one.period else "at")))
        elif key in seen:
            failures.append((index, fail(
                ErrorCode.VALIDATION,
                f"{one.kpi.name!r} is given a value for {when} twice (also "
                f"{named(seen[key])})", "period" if one.period else "at")))
        else:
            seen[key] = index
            good.append(one)
    failures.sort(key=lambda failure: failure[0])
    return good, failures


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _check(item: MeasurementItem, kpis: dict[int, Kpi], stages: dict[int, Stage],
           now: datetime, this_month: Period) -> _Checked:
    kpi = kpis.get(item.kpi_id)
    if kpi is None:
        raise fail(ErrorCode.NOT_FOUND, "no such KPI", "kpiId")
    if kpi.kind is not KpiKind.MEASURED:
        raise fail(ErrorCode.VALIDATION,
                   f"{kpi.name!r} is {kpi.kind.value}, worked out from the books: its values "
                   f"are not recorded", "kpiId")
    stage = stages.get(kpi.service_id)
    if stage in CLOSED_STAGES:
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"the service is {stage.value}: its KPIs take no new values", "kpiId")
    problems: list[Problem] = []
    value: Decimal | None = None
    try:
        value = measured_value(item.value)
    except DomainError as error:
        problems.extend(error.problems)
    period: str | None = None
    at: datetime | None = None
    if (item.period is None) == (item.at is None):
        problems.append(Problem(ErrorCode.VALIDATION,
                                "give either period (a month, YYYY-MM) or at (an instant)",
                                "period"))
    elif item.period is not None:
        try:
            month = Period.parse(item.period)
            if month > this_month:
                problems.append(Problem(ErrorCode.VALIDATION,
                                        f"{month} has not begun: measure it when it has",
                                        "period"))
            period = str(month)
            at = start_of(period)
        except DomainError as error:
            problems.extend(error.problems)
    else:
        assert item.at is not None
        at = _utc(item.at).astimezone(UTC)
        if at > now + CLOCK_SKEW:
            problems.append(Problem(ErrorCode.VALIDATION,
                                    f"{at.isoformat()} is in the future", "at"))
    try:
        source = optional_text(item.source, "source", 200) or "manual"
    except DomainError as error:
        problems.extend(error.problems)
        source = "manual"
    if problems:
        raise DomainError(*problems)
    assert value is not None and at is not None
    return _Checked(kpi, period, at, value, source)


async def write(session: AsyncSession, organisation_id: int, checked: Sequence[_Checked],
                recorded_by_id: int | None) -> list[Measurement]:
    """Insert checked values and record a ``KpiBreached`` for each KPI a value takes
    past its breach threshold."""
    kpis = {one.kpi.id: one.kpi for one in checked}
    before = await current_values(session, organisation_id, list(kpis.values()))
    now = utcnow()
    rows = [Measurement(organisation_id=organisation_id, kpi_id=one.kpi.id,
                        period=one.period, at=one.at, value=one.value, source=one.source,
                        recorded_by_id=recorded_by_id, recorded_at=now)
            for one in checked]
    session.add_all(rows)
    await session.flush()
    latest: dict[int, tuple[datetime, Decimal]] = {
        kpi_id: (_utc(current.at), current.value) for kpi_id, current in before.items()}
    breached: dict[int, Measurement] = {}
    for row in sorted(rows, key=lambda row: (row.at, row.id)):
        kpi = kpis[row.kpi_id]
        previous = latest.get(kpi.id)
        if previous is not None and previous[0] > row.at:
            continue  # an older value filled in: the current one stays
        was_past = previous is not None and worse(kpi.direction, previous[1],
                                                  kpi.breach_threshold)
        if worse(kpi.direction, row.value, kpi.breach_threshold):
            if not was_past:
                breached[kpi.id] = row
        else:
            breached.pop(kpi.id, None)
        latest[kpi.id] = (row.at, row.value)
    for kpi_id, row in breached.items():
        events.record(session, events.KpiBreached(organisation_id, kpi_id,
                                                  kpis[kpi_id].service_id, row.id))
    return rows
