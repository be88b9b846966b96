"""Finance root query fields: customers, categories, models, statements, the dry run and
the reports. Everyone of the organisation may read them."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from spm_api.domain.actor import Actor
from spm_api.domain.finance import accounting, books, charging, customers, statements
from spm_api.domain.session import Session
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import database_id, node_pk
from spm_api.graphql.core.pagination import CountedConnection, QuerySource
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.reading import coded_error, read
from spm_api.graphql.finance.types import (
    ChargingModelInfo,
    ChargingRunResult,
    CostCategoryInfo,
    CostEntryNode,
    CustomerNode,
    StatementNode,
)
from spm_api.plugins.contracts import CHARGING_MODELS
from spm_api.vocabulary.errors import DomainError


@strawberry.type(name="CostEntryConnection")
class CostEntryConnection(CountedConnection[CostEntryNode]):
    """Cost entries, a page at a time."""


@strawberry.type
class FinanceQuery:
    @strawberry.field(permission_classes=AUTHENTICATED, description="Your customers by name.")
    async def customers(self, info: Info[Context, None]) -> list[CustomerNode]:
        async def query(session: Session, actor: Actor) -> list[Any]:
            return await customers.customers_of(session, actor.organisation_id)

        return await read(info, query)

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="The standard cost categories and your own.")
    async def cost_categories(self, info: Info[Context, None]) -> list[CostCategoryInfo]:
        async def query(session: Session, actor: Actor) -> dict[str, str]:
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
                for name, r in sorted(info.context.plugins.registry(CHARGING_MODELS).items())]

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="A dry run: the month's charges per customer and service, "
                                  "computed and not saved.")
    async def charging_run(self, info: Info[Context, None], period: str
                           ) -> ChargingRunResult:
        plugins = info.context.plugins

        async def query(session: Session, actor: Actor) -> charging.ChargingRun:
            return await charging.dry_run(session, actor, plugins, period)

        return ChargingRunResult.of(await read(info, query), issued=False)

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Issued statements of a month, by customer.")
    async def statements(self, info: Info[Context, None], period: str,
                         customer_id: strawberry.ID | None = None) -> list[StatementNode]:
        async def query(session: Session, actor: Actor) -> list[Any]:
            month = statements.statement_month(period)
            customer = (None if customer_id is None
                        else node_pk(customer_id, "Customer", "customerId"))
            return await statements.statements_of(session, actor.organisation_id, str(month),
                                                  customer)

        return await read(info, query)

    @relay.connection(CostEntryConnection, permission_classes=AUTHENTICATED,
                      description="Actual cost booked, newest first.")
    def cost_entries(self, info: Info[Context, None], service_id: strawberry.ID | None = None,
                     from_period: str | None = None, to_period: str | None = None
                     ) -> QuerySource[CostEntryNode]:
        actor = info.context.actor
        assert actor is not None
        # An id that is not a service's matches nothing, like node() returns null.
        service = None if service_id is None else database_id(service_id, "Service") or -1
        try:
            listing = accounting.cost_entries(actor.organisation_id, service, from_period,
                                              to_period)
        except DomainError as error:
            raise coded_error(error) from error
        return QuerySource(info.context, listing)
