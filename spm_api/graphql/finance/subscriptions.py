"""``statementIssued``: a month's statements, live from the event bus."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from spm_api.domain.finance import statements
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.nodes import as_nodes
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.subscriptions import bus_messages, unauthenticated
from spm_api.graphql.finance.types import StatementNode
from spm_api.realtime.messages import StatementsIssuedMessage


@strawberry.type(description="A month's statements were issued.")
class StatementsIssuedEvent:
    period: str
    statements: list[StatementNode]


@strawberry.type
class FinanceSubscription:
    @strawberry.subscription(permission_classes=AUTHENTICATED,
                             description="Statements issued in your organisation.")
    async def statement_issued(self, info: Info[Context, None]
                               ) -> AsyncGenerator[StatementsIssuedEvent, None]:
        context = info.context
        assert context.actor is not None
        async for message in bus_messages(context, StatementsIssuedMessage):
            async with context.event_scope() as actor:
                if actor is None:
                    raise unauthenticated()
                rows = await statements.statements_of(context.session, actor.organisation_id,
                                                      message.period)
                yield StatementsIssuedEvent(period=message.period,
                                            statements=as_nodes(StatementNode, rows))
