"""``spm-api import measurements``: KPI values from CSV, all or nothing, every bad row
reported with the line it starts on (the same reading and reporting as costs and usage).

Columns: ``service`` and ``kpi`` (names), ``value``, and per row either ``period`` (a
month, ``2026-11``) or ``at`` (an ISO 8601 instant); ``source`` is optional.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.finance.imports import MAX_REPORTED, Row, read_csv
from spm_api.domain.stewardship.measurements import MeasurementItem, check_items, write
from spm_api.models import Kpi, Service
from spm_api.vocabulary.errors import DomainError, ErrorCode, Problem

MEASUREMENT_COLUMNS = ("service", "kpi", "value")
MEASUREMENT_OPTIONAL = ("period", "at", "source")


def _instant(text: str) -> datetime | str:
    """The instant a row names, or the words saying why it names none."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return f"at {text!r} is not an instant written like 2026-11-30T12:00:00Z"


async def import_measurements(session: AsyncSession, organisation_id: int, text: str,
                              source: str) -> int:
    """Import every row or none; returns how many values were recorded."""
    rows = read_csv(text, MEASUREMENT_COLUMNS)
    named = {(service, kpi): kpi_id for kpi_id, kpi, service in await session.execute(
        select(Kpi.id, Kpi.name, Service.name).join(Service, Service.id == Kpi.service_id)
        .where(Kpi.organisation_id == organisation_id))}
    problems: list[Problem] = []
    items: list[MeasurementItem] = []
    lines: list[Row] = []

    def bad(row: Row, words: str) -> None:
        problems.append(Problem(ErrorCode.VALIDATION, f"line {row.line}: {words}",
                                f"line {row.line}"))

    for row in rows:
        key = (row.get("service"), row.get("kpi"))
        if key not in named:
            bad(row, f"the service {key[0]!r} has no KPI named {key[1]!r}")
            continue
        at: datetime | None = None
        if row.get("at"):
            instant = _instant(row.get("at"))
            if isinstance(instant, str):
                bad(row, instant)
                continue
            at = instant
        suffix = f":{row.line}"
        items.append(MeasurementItem(
            named[key], row.get("value"), period=row.get("period") or None, at=at,
            source=row.get("source") or source[:200 - len(suffix)] + suffix))
        lines.append(row)
    checked, failures = await check_items(
        session, organisation_id, items, named=lambda index: f"line {lines[index].line}")
    for index, error in failures:
        for problem in error.problems:
            bad(lines[index], problem.message)
    if not rows:
        problems.append(Problem(ErrorCode.VALIDATION, "the file has no rows to import"))
    if problems:
        problems.sort(key=lambda problem: int((problem.field or "line 0").split()[1]))
        shown = problems[:MAX_REPORTED]
        if len(problems) > MAX_REPORTED:
            shown.append(Problem(ErrorCode.VALIDATION,
                                 f"… and {len(problems) - MAX_REPORTED} more problems"))
        raise DomainError(*shown)
    await write(session, organisation_id, checked, None)
    return len(checked)
