"""``voteCast``: votes cast in the organisation, live from the event bus."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from spm_api.graphql.approvals.types import VoteNode
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import node_pk
from spm_api.graphql.core.nodes import present
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.subscriptions import bus_messages, unauthenticated
from spm_api.graphql.portfolio.types import ServiceNode
from spm_api.realtime.messages import VoteCastMessage


@strawberry.type(description="A decision maker voted.")
class VoteCastEvent:
    vote: VoteNode
    service_id: strawberry.Private[int]

    @strawberry.field(description="The service, with its approval round after the vote.")
    async def service(self, info: Info[Context, None]) -> ServiceNode:
        return present(await info.context.loaders.service.load(self.service_id))


@strawberry.type
class ApprovalsSubscription:
    @strawberry.subscription(permission_classes=AUTHENTICATED,
                             description="Votes cast in your organisation, on one service "
                                         "or on all.")
    async def vote_cast(self, info: Info[Context, None],
                        service_id: strawberry.ID | None = None
                        ) -> AsyncGenerator[VoteCastEvent, None]:
        context = info.context
        assert context.actor is not None
        wanted = None if service_id is None else node_pk(service_id, "Service", "serviceId")
        async for message in bus_messages(context, VoteCastMessage):
            if wanted is not None and message.service_id != wanted:
                continue
            async with context.event_scope() as actor:
                if actor is None:
                    raise unauthenticated()
                vote = await context.loaders.vote.load(message.vote_id)
                if vote is not None:
                    yield VoteCastEvent(vote=vote,
                                        service_id=message.service_id)
