"""KPIs, their measurements and a live service's health. KPI rows pass as GraphQL
objects unchanged; their current values and the service's health come through the
request's loaders, so a page of services costs the same statements whatever its size."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from spm_api.domain.actor import Permission
from spm_api.domain.stewardship import health
from spm_api.domain.stewardship.readings import MeasurementsOf
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import Health, KpiDirection, KpiKind
from spm_api.graphql.core.nodes import LoadedNode, present
from spm_api.graphql.core.pagination import CountedConnection, QuerySource
from spm_api.graphql.core.reading import coded_error
from spm_api.graphql.portfolio.types import ServiceNode
from spm_api.vocabulary.errors import DomainError


@strawberry.type(description="One value of a KPI: for a month, or at an instant.")
class Measurement:
    period: str | None = strawberry.field(
        description="The month (YYYY-MM) the value is for; null for a value at an instant.")
    at: datetime = strawberry.field(
        description="When: the instant, or the first instant of the month (UTC).")
    value: Decimal
    source: str = strawberry.field(
        description='"manual", "csv:<file>:<line>", a measurement source\'s name, or '
                    '"computed" for the built-in kinds.')


@strawberry.type(name="MeasurementConnection")
class MeasurementConnection(CountedConnection[Measurement]):  # type: ignore[type-var]
    """A KPI's values, newest first, a page at a time."""


@strawberry.type(name="Kpi", description="A measure of a service, with its target and "
                                         "the thresholds that make it at risk or failing.")
class KpiNode(LoadedNode):
    loader_name = "kpi"

    id: relay.NodeID[int]
    name: str
    unit: str
    kind: KpiKind = strawberry.field(
        description="MEASURED: recorded, imported or pulled; the others are worked out "
                    "each month from the books.")
    direction: KpiDirection
    target: Decimal
    warning_threshold: Decimal = strawberry.field(
        description="Past it (the wrong way for the direction) the KPI is AT_RISK.")
    breach_threshold: Decimal = strawberry.field(
        description="Past it the KPI is FAILING, and a value crossing it publishes "
                    "kpiBreached.")
    source: str | None = strawberry.field(
        description="The measurement source it is pulled from; null when it is not.")
    source_query: str
    pull_error: str | None = strawberry.field(
        description="Why the last pull from the source gave no value; null after one that "
                    "did.")
    pulled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    service_id: strawberry.Private[int]
    organisation_id: strawberry.Private[int]

    @strawberry.field(description="What the source is told besides the query (portfolio "
                                  "managers and admins only; null for others).")
    def source_settings(self, info: Info[Context, None], root: strawberry.Parent[Any]
                        ) -> JSON | None:
        actor = info.context.actor
        if actor is None or not actor.can(Permission.MANAGE_KPIS):
            return None
        shown: Any = dict(root.source_settings or {})
        return shown  # type: ignore[no-any-return]

    @strawberry.field
    async def service(self, info: Info[Context, None]) -> ServiceNode:
        return present(await info.context.loaders.service.load(self.service_id))

    @strawberry.field(description="The current value: the newest measurement, or the "
                                  "latest month the books give one for; null without one.")
    async def latest(self, info: Info[Context, None]) -> Measurement | None:
        # Read with the rest of its service's KPIs: the same batch as Service.health.
        pairs = await info.context.loaders.readings_of_service.load(self.service_id)
        current: Any = next((found for kpi, found in pairs if kpi.id == self.id), None)
        return current  # type: ignore[no-any-return]

    @relay.connection(MeasurementConnection,
                      description="Every value, newest first.")
    def measurements(self, info: Info[Context, None], root: strawberry.Parent[Any]
                     ) -> QuerySource[Measurement]:
        return QuerySource(info.context, MeasurementsOf(
            root.id, root.organisation_id, root.service_id, root.kind))


@strawberry.type(description="How one KPI stands, and why.")
class KpiHealth:
    status: Health
    explanation: str
    kpi_id: strawberry.Private[int]

    @strawberry.field
    async def kpi(self, info: Info[Context, None]) -> KpiNode:
        return present(await info.context.loaders.kpi.load(self.kpi_id))


@strawberry.type(description="A live service's health, computed by the health model from "
                             "its KPIs' current values, with an explanation per KPI.")
class ServiceHealth:
    status: Health
    explanation: str
    explanations: list[KpiHealth]
    model: str = strawberry.field(description="The health model that judged it.")


async def health_of(info: Info[Context, None], service: Any) -> ServiceHealth | None:
    """The service's health, worked out once per request; null unless it is live."""
    if not health.has_health(service.stage):
        return None
    loaders = info.context.loaders
    plugins = info.context.plugins
    result = loaders.health_results.get(service.id)
    if result is None:
        pairs = await loaders.readings_of_service.load(service.id)
        loaders.kpi.prime_many({kpi.id: kpi for kpi, _ in pairs})  # for KpiHealth.kpi
        settings = await loaders.plugin_settings.load(service.organisation_id)
        try:
            result = await health.assess(plugins, health.readings_of(service, pairs),
                                         settings)
        except DomainError as error:
            result = error
        loaders.health_results[service.id] = result
    if isinstance(result, DomainError):
        raise coded_error(result) from result
    return ServiceHealth(
        status=result.status, explanation=result.explanation,
        model=health.model_name(plugins),
        explanations=[KpiHealth(status=judgement.status, explanation=judgement.explanation,
                                kpi_id=judgement.kpi_id)
                      for judgement in result.judgements])


@strawberry.type
class HealthCount:
    health: Health
    count: int
