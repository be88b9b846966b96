"""Subscription events written by the planned read path are exactly the executor's.

Two servers on one database and one event bus, one writing events by plan
(``planned_reads="on"``) and one by the executor (``"off"``), each with a subscriber;
after every change both receive the same payload, shared groups and resuming
subscriptions alike. The planned server's counter shows the plan wrote them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.app import create_app
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org, Portfolio
from tests.ws import Subscriber, running, subscriber

#: Most of what a service page shows, with aliases, a fragment and typenames.
RICH = """
subscription Board($after: String) {
  changed: stageChanged(after: $after) {
    __typename
    cursor
    stageChange { id fromStage toStage reason at actor { name email } __typename }
    service {
      ...card
      summary objectives version createdAt updatedAt plannedEndDate
      estimatedCost { amount currency } expectedBenefit { currency amount }
      owner { name }
      requirements { text necessity judgementReason createdBy { name } judgedBy { name } }
      history: stageChanges { fromStage toStage actor { name } }
      stakeholderInputs { position comment }
      approval { status openedAt closedAt votes { decision voter { name } } }
    }
  }
}
fragment card on Service { id name stage section investmentCategory }
"""

#: A selection the plan does not write (``StageChange.service``): the executor does.
UNPLANNED = """
subscription { stageChanged { cursor stageChange { toStage service { name } } } }
"""

FINANCE = """
subscription { stageChanged { service { name budgetLines { period category amount { amount } } } } }
"""


def written(by: str) -> float:
    return REGISTRY.get_sample_value("spm_subscription_events_written_total", {"by": by}) or 0.0


class Pair:
    """The two servers and an HTTP client for changes (through the planned one)."""

    def __init__(self, planned: str, executor: str, portfolio: Portfolio) -> None:
        self.planned = planned
        self.executor = executor
        self.portfolio = portfolio


@pytest.fixture
async def pair(db: AsyncEngine, settings: Settings, plugins: PluginHost, org: Org
               ) -> AsyncIterator[Pair]:
    bus = EventBus(settings.event_bus_url())
    on = create_app(settings.model_copy(update={"planned_reads": "on"}), engine=db,
                    plugins=plugins, bus=bus)
    off = create_app(settings.model_copy(update={"planned_reads": "off"}), engine=db,
                     plugins=plugins, bus=bus)
    async with running(on) as planned, running(off) as executor, \
            httpx.AsyncClient(base_url=f"http://{planned}", timeout=30) as http:
        yield Pair(planned, executor, Portfolio(GraphQLClient(http), org))
    await bus.disconnect()


@asynccontextmanager
async def both(pair: Pair, token: str, query: str, variables: dict[str, Any] | None = None
               ) -> AsyncIterator[tuple[Subscriber, Subscriber]]:
    async with AsyncExitStack() as stack:
        clients = []
        for address in (pair.planned, pair.executor):
            client = await stack.enter_async_context(subscriber(address, token))
            await client.subscribe(query, variables)
            clients.append(client)
        await asyncio.sleep(0.3)  # both are listening
        yield clients[0], clients[1]


async def same_next(planned: Subscriber, executor: Subscriber) -> dict[str, Any]:
    by_plan, by_executor = await planned.next_data(), await executor.next_data()
    assert by_plan == by_executor
    return by_plan


async def test_each_event_is_written_by_the_plan_as_the_executor_writes_it(
        pair: Pair, org: Org) -> None:
    portfolio = pair.portfolio
    before = written("plan")
    async with both(pair, org.token(Role.VIEWER), RICH) as (planned, executor):
        service = (await portfolio.create("Payroll"))["id"]
        first = await same_next(planned, executor)
        assert first["changed"]["stageChange"]["toStage"] == "DEFINITION"
        requirements = [await portfolio.add_requirement(service, f"need {i}") for i in (1, 2)]
        await portfolio.transition(service, "ANALYSIS")
        moved = await same_next(planned, executor)
        shown = moved["changed"]["service"]
        assert shown["stage"] == "ANALYSIS"
        assert [r["text"] for r in shown["requirements"]] == ["need 1", "need 2"]
        assert [h["toStage"] for h in shown["history"]] == ["DEFINITION", "ANALYSIS"]
        for requirement in requirements:
            await portfolio.assess(requirement)
        await portfolio.add_input(service)
        await portfolio.transition(service, "APPROVAL")
        voted = await same_next(planned, executor)
        assert voted["changed"]["service"]["approval"]["status"] == "PENDING"
        assert voted["changed"]["__typename"] == "StageChangedEvent"
    assert written("plan") - before == 3


async def test_a_resuming_subscription_replays_by_plan_as_the_executor_does(
        pair: Pair, org: Org) -> None:
    portfolio = pair.portfolio
    service, _ = await portfolio.in_analysis("Hosting")
    await portfolio.transition(service, "DEFINITION", "rework")
    before = written("plan")
    async with both(pair, org.token(Role.VIEWER), RICH, {"after": None}) as (planned, _):
        await portfolio.create("Desk")
        cursor = (await planned.next_data())["changed"]["cursor"]
    await portfolio.transition(service, "ANALYSIS")
    await portfolio.transition(service, "DEFINITION", "again")
    async with both(pair, org.token(Role.VIEWER), RICH, {"after": cursor}) as (
            planned, executor):
        replayed = [await same_next(planned, executor) for _ in range(2)]
    assert [r["changed"]["stageChange"]["reason"] for r in replayed] == ["", "again"]
    assert written("plan") - before == 3  # one live event, two replayed


async def test_what_the_plan_cannot_write_the_executor_writes(pair: Pair, org: Org) -> None:
    before = written("plan"), written("executor")
    async with both(pair, org.token(Role.VIEWER), UNPLANNED) as (planned, executor):
        await pair.portfolio.create("Payroll")
        event = await same_next(planned, executor)
    assert event["stageChanged"]["stageChange"]["service"] == {"name": "Payroll"}
    assert (written("plan"), written("executor")) == before  # never planned


@pytest.mark.parametrize("role", [Role.VIEWER, Role.FINANCE])
async def test_a_field_a_role_may_not_read_is_refused_alike(
        pair: Pair, org: Org, role: Role) -> None:
    async with both(pair, org.token(role), FINANCE) as (planned, executor):
        await pair.portfolio.create("Payroll")
        by_plan, by_executor = await planned.receive(), await executor.receive()
    assert by_plan == by_executor
