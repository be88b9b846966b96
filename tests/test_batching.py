"""Nested reads are batched: the statements a request costs do not grow with the rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.engine import create_session_factory
from spm_api.demo import seed_demo
from spm_api.plugins.host import PluginHost
from tests.support import GraphQLClient

PORTFOLIO_PAGE = """
{
  services(first: 50) {
    totalCount
    edges { node {
      id name stage section version
      owner { name roles }
      requirements { text necessity createdBy { name } judgedBy { name } }
      stakeholderInputs { position comment author { name } }
      stageChanges { fromStage toStage reason at actor { name } }
      approval { status votes { decision voter { name } } verdicts { rule status } }
      baseline { objectives } deviations { aspect } affirmations { comment }
      estimatedCost { amount currency } expectedBenefit { amount }
      budgetLines { period category amount { amount currency } }
      chargingPolicy { model parameters }
    } }
  }
}"""


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _seed(db: AsyncEngine, services: int) -> str:
    async with create_session_factory(db)() as session, session.begin():
        demo = await seed_demo(session, PluginHost.load(frozenset()), services=services)
    token: str = demo["people"][1]["token"]  # the portfolio manager
    return token


async def _statements_for_page(api: GraphQLClient, db: AsyncEngine, token: str
                               ) -> tuple[int, int]:
    with count_statements(db) as statements:
        data = await api.data(PORTFOLIO_PAGE, token=token)
    edges = data["services"]["edges"]
    assert all(edge["node"]["requirements"] for edge in edges)
    assert all(edge["node"]["stageChanges"] for edge in edges)
    assert any(edge["node"]["approval"] and edge["node"]["approval"]["votes"]
               for edge in edges)
    return len(statements), len(edges)


async def test_statement_count_does_not_grow_with_services(api: GraphQLClient,
                                                           db: AsyncEngine) -> None:
    token = await _seed(db, 5)
    few_statements, few_rows = await _statements_for_page(api, db, token)
    assert few_rows == 5

    # More services than the page holds: the page is full, and there is a next one.
    token = await _seed(db, 60)
    many_statements, many_rows = await _statements_for_page(api, db, token)
    assert many_rows == 50
    assert many_statements == few_statements, (few_statements, many_statements)
    assert many_statements <= 24
