"""``stageChanged``: the organisation's stage changes, in order and resumable, each
event read fresh with the subscriber's own permissions.

The bus carries ids and stages only. Filters on those are applied before anything is
read; what passes is loaded in an event scope (a session of its own, the token checked
again) and dropped when it is not the subscriber's to see.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from spm_api.domain.finance import customers
from spm_api.domain.portfolio import stage_history
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import Section
from spm_api.graphql.core.enums import Stage as StageEnum
from spm_api.graphql.core.ids import node_pk, row_id
from spm_api.graphql.core.nodes import as_node, as_nodes, present
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.subscriptions import bus_messages, unauthenticated
from spm_api.graphql.portfolio.types import FINANCE_TYPES, ServiceNode, StageChangeNode
from spm_api.realtime.messages import (
    Message,
    ServiceRetiringMessage,
    StageChangedMessage,
)
from spm_api.vocabulary.stages import SECTION_OF_STAGE, Stage

if TYPE_CHECKING:
    from spm_api.graphql.finance.types import CustomerNode

#: Stage changes replayed per read when a subscription resumes.
REPLAY_BATCH = 200
_CURSOR_PREFIX = "stage-change:"


def cursor_of(change_id: int) -> str:
    return base64.b64encode(f"{_CURSOR_PREFIX}{change_id}".encode()).decode()


def change_id_of(cursor: str) -> int:
    try:
        text = base64.b64decode(cursor, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        text = ""
    number = row_id(text.removeprefix(_CURSOR_PREFIX))
    if not text.startswith(_CURSOR_PREFIX) or number is None:
        raise GraphQLError("after is not a cursor this subscription gave out",
                           extensions={"code": "BAD_USER_INPUT", "field": "after"})
    return number


@strawberry.input(description="Which stage changes to receive; every field narrows. "
                              "sections and stages match the stage left or entered.")
class StageChangeFilter:
    service_id: strawberry.ID | None = None
    sections: list[Section] | None = None
    stages: list[StageEnum] | None = None

    def matches(self, from_stage: str | None, to_stage: str, service_id: int,
                wanted_service: int | None) -> bool:
        touched = {Stage(to_stage)} | ({Stage(from_stage)} if from_stage else set())
        if wanted_service is not None and service_id != wanted_service:
            return False
        if self.stages and not touched & set(self.stages):
            return False
        return not self.sections or bool(
            {SECTION_OF_STAGE[stage] for stage in touched} & set(self.sections))


@strawberry.type(description="A service moved stage.")
class StageChangedEvent:
    cursor: str = strawberry.field(
        description="Pass it as `after` to resume from here without gap or repeat.")
    stage_change: StageChangeNode

    @strawberry.field(description="The service as it is now.")
    async def service(self, info: Info[Context, None]) -> ServiceNode:
        return present(await info.context.loaders.service.load(self.stage_change.service_id))


@strawberry.type(description="A service started RETIRING: who uses it, and until when.")
class ServiceRetiringEvent:
    service: ServiceNode
    stage_change: StageChangeNode = strawberry.field(
        description="The move to RETIRING, with its reason.")
    planned_end_date: date = strawberry.field(
        description="The last day the service is delivered.")
    customers: list[Annotated[CustomerNode, strawberry.lazy(FINANCE_TYPES)]] = strawberry.field(
        description="The customers who used it: the ones to tell.")


@strawberry.type
class PortfolioSubscription:
    @strawberry.subscription(permission_classes=AUTHENTICATED,
                             description="Stage changes of your organisation, in order. With "
                                         "`after`, first those since that cursor.")
    async def stage_changed(self, info: Info[Context, None],
                            filter: StageChangeFilter | None = None,
                            after: str | None = None
                            ) -> AsyncGenerator[StageChangedEvent, None]:
        context = info.context
        assert context.actor is not None
        wanted = StageChangeFilter() if filter is None else filter
        wanted_service = (None if wanted.service_id is None
                          else node_pk(wanted.service_id, "Service", "serviceId"))
        organisation_id = context.actor.organisation_id
        # Listen first, then read: what commits meanwhile waits in the queue. A bus
        # message only wakes the subscription up; what it delivers is read from the
        # history (written in id order, see domain.stage_history), so a late or lost
        # message can neither reorder changes nor leave a gap.
        async with context.bus.subscribe(organisation_id) as messages:
            last = change_id_of(after) if after is not None else await _latest(context)
            catching_up = after is not None
            while True:
                if catching_up:
                    async with context.event_scope() as actor:
                        if actor is None:
                            raise unauthenticated()
                        rows = await stage_history.changes_after(
                            context.session, actor.organisation_id, last, REPLAY_BATCH)
                        for row in rows:
                            last = row.id
                            if wanted.matches(row.from_stage.value if row.from_stage else None,
                                              row.to_stage.value, row.service_id,
                                              wanted_service):
                                change = present(as_node(StageChangeNode, row))
                                yield StageChangedEvent(cursor=cursor_of(row.id),
                                                        stage_change=change)
                    if len(rows) == REPLAY_BATCH:
                        continue  # more history to read
                catching_up = await _woken(messages, last, context)


    @strawberry.subscription(permission_classes=AUTHENTICATED,
                             description="Services of your organisation starting to retire, "
                                         "with the customers who use them.")
    async def service_retiring(self, info: Info[Context, None],
                               service_id: strawberry.ID | None = None
                               ) -> AsyncGenerator[ServiceRetiringEvent, None]:
        from spm_api.graphql.finance.types import CustomerNode

        context = info.context
        assert context.actor is not None
        wanted = None if service_id is None else node_pk(service_id, "Service", "serviceId")
        async for message in bus_messages(context, ServiceRetiringMessage):
            if wanted is not None and message.service_id != wanted:
                continue
            async with context.event_scope() as actor:
                if actor is None:
                    raise unauthenticated()
                service = await context.loaders.service.load(message.service_id)
                change = await context.loaders.stage_change.load(message.change_id)
                if service is None or change is None or service.planned_end_date is None:
                    continue
                users = await customers.customers_of_service(
                    context.session, actor.organisation_id, message.service_id)
                yield ServiceRetiringEvent(service=service, stage_change=change,
                                           planned_end_date=service.planned_end_date,
                                           customers=as_nodes(CustomerNode, users))


async def _latest(context: Context) -> int:
    """The organisation's newest stage-change id (0 without any)."""
    assert context.actor is not None
    async with context.event_scope() as actor:
        if actor is None:
            raise unauthenticated()
        return await stage_history.latest_change_id(context.session, actor.organisation_id)


async def _woken(messages: AsyncIterator[Message], last: int, context: Context) -> bool:
    """Wait for news of a stage change after ``last`` (noting when it was published)."""
    async for message in messages:
        if isinstance(message, StageChangedMessage) and message.change_id > last:
            context.published_at = message.published_at
            return True
    raise GraphQLError("the event bus closed the subscription",
                       extensions={"code": "INTERNAL_SERVER_ERROR"})
