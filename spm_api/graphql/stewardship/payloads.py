"""Payloads of the KPI and measurement mutations."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry.types import Info

from spm_api.graphql.core.context import Context
from spm_api.graphql.core.errors import UserError
from spm_api.graphql.stewardship.types import KpiNode, Measurement


@strawberry.type
class KpiPayload:
    kpi: KpiNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteKpiPayload:
    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MeasurementPayload:
    measurement: Measurement | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MeasurementsPayload:
    measurements: list[Measurement] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="What one KPI's source answered.")
class PulledValue:
    source: str
    value: Decimal | None = strawberry.field(description="The value recorded; null when none.")
    error: str | None = strawberry.field(description="Why there is no value.")
    kpi_id: strawberry.Private[int]

    @strawberry.field
    async def kpi(self, info: Info[Context, None]) -> KpiNode | None:
        return await info.context.loaders.kpi.load(self.kpi_id)


@strawberry.type
class PullMeasurementsPayload:
    pulled: list[PulledValue] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)
