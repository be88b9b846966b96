"""KPI and measurement mutations: decode the input, call one domain command, shape the
payload. Portfolio managers and admins define KPIs and record or pull their values."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from spm_api.domain.stewardship import kpis, measurements, pulls
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import node_pk
from spm_api.graphql.core.nodes import as_node
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.unit_of_work import run_mutation
from spm_api.graphql.stewardship.inputs import (
    DefineKpiInput,
    DeleteKpiInput,
    MeasurementInput,
    PullMeasurementsInput,
    RecordMeasurementsInput,
    UpdateKpiInput,
)
from spm_api.graphql.stewardship.payloads import (
    DeleteKpiPayload,
    KpiPayload,
    MeasurementPayload,
    MeasurementsPayload,
    PulledValue,
    PullMeasurementsPayload,
)
from spm_api.graphql.stewardship.types import KpiNode, Measurement


def _measurements(rows: list[Any] | None) -> list[Measurement]:
    found: list[Measurement] = list(rows or [])
    return found


@strawberry.type
class StewardshipMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Define a KPI of a service (portfolio managers, admins).")
    async def define_kpi(self, info: Info[Context, None], input: DefineKpiInput
                         ) -> KpiPayload:
        plugins = info.context.plugins
        kpi, errors = await run_mutation(info, lambda session, actor: kpis.define_kpi(
            session, actor, plugins, node_pk(input.service_id, "Service", "serviceId"),
            input.to_domain()))
        return KpiPayload(kpi=as_node(KpiNode, kpi), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Change a KPI; fields left out stay as they are.")
    async def update_kpi(self, info: Info[Context, None], input: UpdateKpiInput
                         ) -> KpiPayload:
        plugins = info.context.plugins
        kpi, errors = await run_mutation(info, lambda session, actor: kpis.update_kpi(
            session, actor, plugins, node_pk(input.kpi_id, "Kpi", "kpiId"),
            input.to_domain()))
        return KpiPayload(kpi=as_node(KpiNode, kpi), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Remove a KPI and its measurements.")
    async def delete_kpi(self, info: Info[Context, None], input: DeleteKpiInput
                         ) -> DeleteKpiPayload:
        deleted, errors = await run_mutation(info, lambda session, actor: kpis.delete_kpi(
            session, actor, node_pk(input.kpi_id, "Kpi", "kpiId")))
        return DeleteKpiPayload(deleted_id=None if deleted is None else input.kpi_id,
                                errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Record one value of a MEASURED KPI.")
    async def record_measurement(self, info: Info[Context, None], input: MeasurementInput
                                 ) -> MeasurementPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: measurements.record_measurement(
                session, actor, input.to_domain()))
        found: Measurement | None = row  # type: ignore[assignment]
        return MeasurementPayload(measurement=found, errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Record many values, all or none: every bad one is "
                                     "reported with its index (field measurements.<i>.…).")
    async def record_measurements(self, info: Info[Context, None],
                                  input: RecordMeasurementsInput) -> MeasurementsPayload:
        items = [item.to_domain() for item in input.measurements]
        rows, errors = await run_mutation(
            info, lambda session, actor: measurements.record_measurements(
                session, actor, items))
        return MeasurementsPayload(measurements=_measurements(rows), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Ask each measurement source for the values of the KPIs "
                                     "that name it, outside any transaction, and record "
                                     "them; a source that fails leaves its KPIs UNKNOWN "
                                     "with the reason.")
    async def pull_measurements(self, info: Info[Context, None],
                                input: PullMeasurementsInput | None = None
                                ) -> PullMeasurementsPayload:
        plugins = info.context.plugins
        raw = input.service_id if input else None
        pulled, errors = await run_mutation(info, lambda session, actor: pulls.pull_for(
            session, actor, plugins,
            None if raw is None else node_pk(raw, "Service", "serviceId")))
        return PullMeasurementsPayload(
            pulled=[PulledValue(source=one.source, value=one.value, error=one.error,
                                kpi_id=one.kpi_id) for one in pulled or []],
            errors=errors)
