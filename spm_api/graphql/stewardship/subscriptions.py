"""``kpiBreached``: a KPI's newest value went past its breach threshold."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import database_id
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.subscriptions import bus_messages, unauthenticated
from spm_api.graphql.portfolio.types import ServiceNode
from spm_api.graphql.stewardship.types import KpiNode, Measurement
from spm_api.realtime.messages import KpiBreachedMessage


@strawberry.type(description="A KPI's newest value went past its breach threshold.")
class KpiBreachedEvent:
    kpi: KpiNode
    service: ServiceNode
    measurement: Measurement


@strawberry.type
class StewardshipSubscription:
    @strawberry.subscription(permission_classes=AUTHENTICATED,
                             description="KPIs of your organisation's services crossing "
                                         "their breach threshold; only one service's with "
                                         "serviceId.")
    async def kpi_breached(self, info: Info[Context, None],
                           service_id: strawberry.ID | None = None
                           ) -> AsyncGenerator[KpiBreachedEvent, None]:
        context = info.context
        assert context.actor is not None
        only = None if service_id is None else (database_id(service_id, "Service") or -1)
        async for message in bus_messages(context, KpiBreachedMessage):
            if only is not None and message.service_id != only:
                continue
            async with context.event_scope() as actor:
                if actor is None:
                    raise unauthenticated()
                loaders = context.loaders
                kpi = await loaders.kpi.load(message.kpi_id)
                service = await loaders.service.load(message.service_id)
                measurement = await loaders.measurement.load(message.measurement_id)
                if kpi is None or service is None or measurement is None:
                    continue  # removed since, or not the subscriber's to see
                yield KpiBreachedEvent(kpi=kpi, service=service, measurement=measurement)
