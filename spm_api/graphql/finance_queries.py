"""Finance root query fields: customers, categories, models, statements, the dry run and
the reports. Everyone of the organisation may read them."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.types import Info

from spm_api.domain.actor import Actor
from spm_api.domain.finance import books, charging
from spm_api.domain.finance.reports import Months
from spm_api.graphql.context import Context
from spm_api.graphql.finance_types import (
    ChargingModelInfo,
    ChargingRunResult,
    CostCategoryInfo,
    CostEntryNode,
    CustomerNode,
    StatementNode,
)
from spm_api.graphql.inputs import database_id, node_pk
from spm_api.graphql.pagination import CountedConnection, QuerySource
from spm_api.graphql.permissions import AUTHENTICATED
from spm_api.graphql.reading import coded_error, read
from spm_api.graphql.report_types import Reports
from spm_api.models import CostEntry, Customer, Statement
from spm_api.vocabulary.errors import DomainError
from spm_api.vocabulary.periods import Period


@strawberry.type(name="CostEntryConnection")
class CostEntryConnection(CountedConnection[CostEntryNode]):
    """Cost entries, a page at a time."""


@strawberry.type
class FinanceQuery:
    @strawberry.field(permission_classes=AUTHENTICATED, description="Your customers by name.")
    async def customers(self, info: Info[Context, None]) -> list[CustomerNode]:
        async def query(session: AsyncSession, actor: Actor) -> list[Any]:
            return list(await session.scalars(
                select(Customer).where(Customer.organisation_id == actor.organisation_id)
                .order_by(Customer.name)))

        return await read(info, query)

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="The standard cost categories and your own.")
    async def cost_categories(self, info: Info[Context, None]) -> list[CostCategoryInfo]:
        async def query(session: AsyncSession, actor: Actor) -> dict[str, str]:
            return await books.cost_categories(session, actor.organisation_id)

        return [CostCategoryInfo(code=code, title=title,
                                 standard=code in books.STANDARD_CATEGORIES)
                for code, title in (await read(info, query)).items()]

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="The charging models installed on this server.")
    def charging_models(self, info: Info[Context, None]) -> list[ChargingModelInfo]:
        return [ChargingModelInfo(name=name, title=r.item.title,
                                  description=r.item.description, billed=r.item.billed,
                                  plugin=r.plugin)
                for name, r in sorted(info.context.plugins.charging_models.items())]

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="A dry run: the month's charges per customer and service, "
                                  "computed and not saved.")
    async def charging_run(self, info: Info[Context, None], period: str
                           ) -> ChargingRunResult:
        plugins = info.context.plugins

        async def query(session: AsyncSession, actor: Actor) -> charging.ChargingRun:
            return await charging.dry_run(session, actor, plugins, period)

        return ChargingRunResult.of(await read(info, query), issued=False)

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Issued statements of a month, by customer.")
    async def statements(self, info: Info[Context, None], period: str,
                         customer_id: strawberry.ID | None = None) -> list[StatementNode]:
        async def query(session: AsyncSession, actor: Actor) -> list[Any]:
            month = Months.parse(period, period).first
            found = (select(Statement)
                     .where(Statement.organisation_id == actor.organisation_id,
                            Statement.period == str(month))
                     .order_by(Statement.customer_id))
            if customer_id is not None:
                found = found.where(
                    Statement.customer_id == node_pk(customer_id, "Customer", "customerId"))
            return list(await session.scalars(found))

        return await read(info, query)

    @relay.connection(CostEntryConnection, permission_classes=AUTHENTICATED,
                      description="Actual cost booked, newest first.")
    def cost_entries(self, info: Info[Context, None], service_id: strawberry.ID | None = None,
                     from_period: str | None = None, to_period: str | None = None
                     ) -> QuerySource[CostEntryNode]:
        actor = info.context.actor
        assert actor is not None
        query = (select(CostEntry).where(CostEntry.organisation_id == actor.organisation_id)
                 .order_by(CostEntry.booked_on.desc(), CostEntry.id.desc()))
        if service_id is not None:
            # An id that is not a service's matches nothing, like node() returns null.
            query = query.where(CostEntry.service_id == (database_id(service_id, "Service")
                                                         or -1))
        try:
            if from_period is not None:
                query = query.where(CostEntry.period >= str(Period.parse(from_period,
                                                                         "fromPeriod")))
            if to_period is not None:
                query = query.where(CostEntry.period <= str(Period.parse(to_period,
                                                                         "toPeriod")))
        except DomainError as error:
            raise coded_error(error) from error
        return QuerySource(info.context, query)  # type: ignore[arg-type]

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Budget vs actual, investment, charges, cost recovery and "
                                  "the pipeline ranking.")
    def reports(self) -> Reports:
        return Reports()
