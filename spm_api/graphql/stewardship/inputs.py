"""Inputs of the KPI and measurement mutations; numbers are decimal strings, read
exactly."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from spm_api.domain.stewardship.kpis import KpiSpec
from spm_api.domain.stewardship.measurements import MeasurementItem
from spm_api.graphql.core.enums import KpiDirection, KpiKind
from spm_api.graphql.core.ids import database_id

NUMBER = 'A decimal string, like "99.5" (at most four decimals).'


@strawberry.input
class DefineKpiInput:
    service_id: strawberry.ID
    name: str
    direction: KpiDirection
    target: str = strawberry.field(description=NUMBER)
    warning_threshold: str = strawberry.field(description=NUMBER)
    breach_threshold: str = strawberry.field(description=NUMBER)
    kind: KpiKind = KpiKind.MEASURED
    unit: str = strawberry.field(
        default="", description="Defaults, for the built-in kinds, to what they measure in.")
    source: str | None = strawberry.field(
        default=None, description="A measurement source to pull values from (MEASURED only).")
    source_query: str | None = strawberry.field(
        default=None, description="What to ask the source, in its own language.")
    source_settings: JSON | None = strawberry.field(
        default=None, description="What else the source needs for this KPI (a JSON object).")

    def to_domain(self) -> KpiSpec:
        return KpiSpec(name=self.name, unit=self.unit, kind=self.kind,
                       direction=self.direction, target=self.target,
                       warning_threshold=self.warning_threshold,
                       breach_threshold=self.breach_threshold, source=self.source,
                       source_query=self.source_query,
                       source_settings=_settings(self.source_settings))


@strawberry.input
class UpdateKpiInput:
    kpi_id: strawberry.ID
    name: str | None = None
    unit: str | None = None
    direction: KpiDirection | None = None
    target: str | None = strawberry.field(default=None, description=NUMBER)
    warning_threshold: str | None = strawberry.field(default=None, description=NUMBER)
    breach_threshold: str | None = strawberry.field(default=None, description=NUMBER)
    source: str | None = None
    source_query: str | None = None
    source_settings: JSON | None = None
    clear_source: bool = strawberry.field(
        default=False, description="Stop pulling the KPI from its source.")

    def to_domain(self) -> KpiSpec:
        return KpiSpec(name=self.name, unit=self.unit, direction=self.direction,
                       target=self.target, warning_threshold=self.warning_threshold,
                       breach_threshold=self.breach_threshold, source=self.source,
                       source_query=self.source_query,
                       source_settings=_settings(self.source_settings),
                       clear_source=self.clear_source)


def _settings(value: object) -> dict[str, object] | None:
    from spm_api.vocabulary.errors import ErrorCode, fail

    if value is None:
        return None
    if not isinstance(value, dict):
        raise fail(ErrorCode.VALIDATION, "sourceSettings must be a JSON object",
                   "sourceSettings")
    return value


@strawberry.input
class DeleteKpiInput:
    kpi_id: strawberry.ID


@strawberry.input(description="One value: give period (a month) or at (an instant).")
class MeasurementInput:
    kpi_id: strawberry.ID
    value: str = strawberry.field(description=NUMBER)
    period: str | None = strawberry.field(default=None, description="The month, YYYY-MM.")
    at: datetime | None = None

    def to_domain(self) -> MeasurementItem:
        """The item; an id that is no KPI's names no KPI, so it is refused as NOT_FOUND
        with the item's index like any other unknown KPI."""
        return MeasurementItem(database_id(self.kpi_id, "Kpi") or -1, self.value,
                               period=self.period, at=self.at)


@strawberry.input
class RecordMeasurementsInput:
    measurements: list[MeasurementInput]


@strawberry.input
class PullMeasurementsInput:
    service_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this service's KPIs; every KPI with a source "
                                  "otherwise.")
