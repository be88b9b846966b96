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
    # 25: open rounds are evaluated with the business case's years (one batched read).
    assert many_statements <= 25


KPI_PAGE = """
{
  services(first: 50) {
    edges { node {
      name
      kpis { name kind target latest { period value source } }
      health { status explanation explanations { status explanation kpi { name } } }
    } }
  }
  portfolio { byHealth { health count } }
}"""


async def _seed_live(db: AsyncEngine, count: int) -> str:
    """An organisation with ``count`` live services, each with two measured KPIs (twelve
    months of values) and a built-in one over a month of costs and usage; written as
    rows, the way the portfolio reaches LIVE is tested elsewhere."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from spm_api.domain.tenancy import create_organisation, create_person
    from spm_api.domain.tokens import issue_token
    from spm_api.models import CostEntry, Customer, Kpi, Measurement, Service, UsageRecord
    from spm_api.vocabulary.enums import (
        CustomerKind,
        InvestmentCategory,
        KpiDirection,
        KpiKind,
        Role,
    )
    from spm_api.vocabulary.stages import Stage

    async with create_session_factory(db)() as session, session.begin():
        organisation = await create_organisation(session, f"Live {count}", f"live-{count}")
        person = await create_person(session, organisation.id, "Pia", f"pia{count}@x.example",
                                     [Role.PORTFOLIO_MANAGER])
        customer = Customer(organisation_id=organisation.id, name="Sales",
                            kind=CustomerKind.INTERNAL_DEPARTMENT)
        session.add(customer)
        services = [Service(organisation_id=organisation.id, name=f"Live {number:03d}",
                            investment_category=InvestmentCategory.RUN, stage=Stage.LIVE)
                    for number in range(count)]
        session.add_all(services)
        await session.flush()
        for number, service in enumerate(services):
            kpis = [Kpi(organisation_id=organisation.id, service_id=service.id, name=name,
                        kind=kind, direction=KpiDirection.HIGHER_IS_BETTER, unit="",
                        target=Decimal(99), warning_threshold=Decimal(98),
                        breach_threshold=Decimal(97), created_by_id=person.id)
                    for name, kind in (("Availability", KpiKind.MEASURED),
                                       ("Satisfaction", KpiKind.MEASURED),
                                       ("Customers", KpiKind.ACTIVE_CUSTOMERS))]
            session.add_all(kpis)
            session.add(CostEntry(organisation_id=organisation.id, service_id=service.id,
                                  booked_on=datetime(2026, 10, 5).date(), period="2026-10",
                                  category="labour", amount=Decimal(100)))
            session.add(UsageRecord(organisation_id=organisation.id, customer_id=customer.id,
                                    service_id=service.id, period="2026-10",
                                    quantity=Decimal(5), unit="GB"))
            await session.flush()
            session.add_all(Measurement(organisation_id=organisation.id, kpi_id=kpi.id,
                                        period=f"2025-{month:02d}",
                                        at=datetime(2025, month, 1, tzinfo=UTC),
                                        value=Decimal(96 + (number + month) % 4))
                            for kpi in kpis[:2] for month in range(1, 13))
        token: str = await issue_token(session, person.id)
    return token


async def _statements_for_kpi_page(api: GraphQLClient, db: AsyncEngine, token: str
                                   ) -> tuple[int, int]:
    with count_statements(db) as statements:
        data = await api.data(KPI_PAGE, token=token)
    edges = data["services"]["edges"]
    assert all(len(edge["node"]["kpis"]) == 3 for edge in edges)
    assert all(edge["node"]["kpis"][2]["latest"]["value"] == "1" for edge in edges)
    assert all(len(edge["node"]["health"]["explanations"]) == 3 for edge in edges)
    assert sum(count["count"] for count in data["portfolio"]["byHealth"]) >= len(edges)
    return len(statements), len(edges)


async def test_kpis_and_health_of_a_page_cost_the_same_statements_whatever_its_size(
        api: GraphQLClient, db: AsyncEngine) -> None:
    few_statements, few_rows = await _statements_for_kpi_page(api, db, await _seed_live(db, 3))
    assert few_rows == 3
    many_statements, many_rows = await _statements_for_kpi_page(
        api, db, await _seed_live(db, 60))
    assert many_rows == 50
    assert many_statements == few_statements, (few_statements, many_statements)
    assert many_statements <= 30
