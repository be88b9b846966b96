"""Sourcing root query fields: the contractor registry and the installed integrations."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from spm_api.domain.actor import Actor
from spm_api.domain.session import Session
from spm_api.domain.sourcing import contractors
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.reading import read
from spm_api.graphql.sourcing.types import ContractorIntegrationInfo, ContractorNode
from spm_api.plugins.contracts import CONTRACTOR_INTEGRATIONS


@strawberry.type
class SourcingQuery:
    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Your contractor registry, by name.")
    async def contractors(self, info: Info[Context, None]) -> list[ContractorNode]:
        async def query(session: Session, actor: Actor) -> list[Any]:
            return await contractors.contractors_of(session, actor.organisation_id)

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
