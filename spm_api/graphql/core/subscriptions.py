"""What every subscription shares: the organisation's bus messages of one kind, and the
error for a token that stopped authenticating.

The bus carries ids and stages only. Filters on those are applied before anything is
read; what passes is loaded in an event scope (a session of its own, the token checked
again) and dropped when it is not the subscriber's to see.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TypeVar

from graphql import GraphQLError

from spm_api.graphql.core.context import Context
from spm_api.realtime.messages import (
    KpiBreachedMessage,
    ServiceRetiringMessage,
    StakeholderReportIssuedMessage,
    StatementsIssuedMessage,
    VoteCastMessage,
)

M = TypeVar("M", VoteCastMessage, StatementsIssuedMessage, ServiceRetiringMessage,
              KpiBreachedMessage, StakeholderReportIssuedMessage)


def unauthenticated() -> GraphQLError:
    return GraphQLError("the API token no longer authenticates",
                        extensions={"code": "UNAUTHENTICATED"})


async def bus_messages(context: Context, kind: type[M]) -> AsyncGenerator[M, None]:
    """The organisation's bus messages of one kind."""
    assert context.actor is not None
    async with context.bus.subscribe(context.actor.organisation_id) as messages:
        async for message in messages:
            if isinstance(message, kind):
                context.published_at = message.published_at
                yield message
