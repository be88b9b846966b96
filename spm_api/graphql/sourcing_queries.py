"""Sourcing root query fields: the contractor registry and the installed integrations."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from spm_api.domain.actor import Actor
from spm_api.graphql.context import Context
from spm_api.graphql.permissions import AUTHENTICATED
from spm_api.graphql.reading import read
from spm_api.graphql.sourcing_types import ContractorIntegrationInfo, ContractorNode
from spm_api.models import Contractor
from spm_api.plugins.contracts import CONTRACTOR_INTEGRATIONS


@strawberry.type
class SourcingQuery:
    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Your contractor registry, by name.")
    async def contractors(self, info: Info[Context, None]) -> list[ContractorNode]:
        async def query(session: AsyncSession, actor: Actor) -> list[Any]:
            return list(await session.scalars(
                select(Contractor).where(Contractor.organisation_id == actor.organisation_id)
                .order_by(Contractor.name)))

        return await read(info, query)

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="The contractor integrations installed on this server.")
    def contractor_integrations(self, info: Info[Context, None]
                                ) -> list[ContractorIntegrationInfo]:
        return [ContractorIntegrationInfo(name=name, title=r.item.title,
                                          description=r.item.description, plugin=r.plugin,
                                          quotes=r.item.request_quote is not None)
                for name, r in sorted(
                    info.context.plugins.registry(CONTRACTOR_INTEGRATIONS).items())]
