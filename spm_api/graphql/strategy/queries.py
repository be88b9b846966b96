"""The strategy root field: discount rate, target mix and strategic objectives."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from spm_api.graphql.core.context import Context
from spm_api.graphql.core.nodes import present
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.strategy.types import StrategyView, strategy_view


@strawberry.type
class StrategyQuery:
    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Your organisation's discount rate, target investment mix "
                                  "and strategic objectives.")
    async def strategy(self, info: Info[Context, None]) -> StrategyView:
        actor = info.context.actor
        assert actor is not None
        return strategy_view(present(await info.context.loaders.strategy.load(
            actor.organisation_id)))
