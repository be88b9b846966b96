"""Issuing a month's statements while the same month is being closed and costs are
booked into it (PostgreSQL only).

Issuing and closing both take the organisation's row lock exclusively, and booking a
cost takes it shared, so they happen one after another: two issues never collide, and a
month never ends up closed with statements that are still open. Without the lock this
test fails. On SQLite writers wait for each other's whole transaction; there is no race.
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.engine import create_session_factory
from spm_api.domain.actor import Actor
from spm_api.domain.finance import accounting, charging, statements
from spm_api.domain.finance.customers import create_customer
from spm_api.domain.portfolio.services import create_service
from spm_api.models import ClosedPeriod, Statement
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import CustomerKind, InvestmentCategory, Role
from spm_api.vocabulary.errors import DomainError, ErrorCode
from spm_api.vocabulary.money import Money
from tests.support import Org

ROUNDS = 5


def skip_on_sqlite(db: AsyncEngine) -> None:
    if db.url.get_backend_name() == "sqlite":
        pytest.skip("concurrent writers are exercised on PostgreSQL")


async def _charged_service(db: AsyncEngine, plugins: PluginHost, finance: Actor,
                           contributor: Actor) -> int:
    async with create_session_factory(db)() as session:
        service = await create_service(session, contributor, name="Hosting",
                                       investment_category=InvestmentCategory.RUN)
        customer = await create_customer(session, finance, "Sales",
                                         CustomerKind.INTERNAL_DEPARTMENT)
        await charging.set_charging_policy(session, finance, plugins, service.id,
                                           "cost_recovery", {})
        for month in range(1, ROUNDS + 1):
            await accounting.record_cost(
                session, finance, service.id, booked_on=date(2026, month, 1),
                category="labour", amount=Money(Decimal("90.00"), "EUR"))
            await accounting.record_usage(session, finance, customer.id, service.id,
                                          period=f"2026-{month:02d}", amount="3",
                                          unit_name="GB")
        await session.commit()
        return service.id


async def _attempt(db: AsyncEngine, action: str, finance: Actor, plugins: PluginHost,
                   period: str, service_id: int) -> str:
    """Run one command in its own transaction; the error code, or "ok"."""
    async with create_session_factory(db)() as session:
        try:
            if action == "issue":
                await statements.issue_statements(session, finance, plugins, period)
            elif action == "close":
                await statements.close_period(session, finance, period)
            else:
                year, month = map(int, period.split("-"))
                await accounting.record_cost(
                    session, finance, service_id, booked_on=date(year, month, 28),
                    category="labour", amount=Money(Decimal("1.00"), "EUR"))
            await asyncio.sleep(0.01)  # hold the transaction open a moment
            await session.commit()
        except DomainError as error:
            await session.rollback()
            return error.problems[0].code.value
    return "ok"


async def test_a_month_closes_before_or_after_an_issue_and_a_booking_never_during(
        db: AsyncEngine, org: Org, plugins: PluginHost) -> None:
    skip_on_sqlite(db)
    finance = Actor(org.person_ids[Role.FINANCE], org.id, frozenset({Role.FINANCE}))
    contributor = Actor(org.person_ids[Role.CONTRIBUTOR], org.id,
                        frozenset({Role.CONTRIBUTOR}))
    service_id = await _charged_service(db, plugins, finance, contributor)
    for month in range(1, ROUNDS + 1):
        period = f"2026-{month:02d}"
        outcomes = await asyncio.gather(*(
            _attempt(db, action, finance, plugins, period, service_id)
            for action in ("issue", "close", "book", "issue", "book")))
        # Closing is refused (CONFLICT) when a booking landed after an issue: the
        # statements would not bill it. Then the month stays open.
        assert outcomes[1] in {"ok", ErrorCode.CONFLICT.value}, outcomes
        assert set(outcomes) <= {"ok", ErrorCode.PERIOD_CLOSED.value,
                                 ErrorCode.CONFLICT.value}, outcomes
        async with create_session_factory(db)() as session:
            closed = await session.get(ClosedPeriod, (org.id, period))
            assert (closed is not None) == (outcomes[1] == "ok")
            open_statements = await session.scalar(select(func.count()).select_from(
                Statement).where(Statement.period == period,
                                 Statement.closed_at.is_(None)))
            if closed is not None:
                assert open_statements == 0, "a statement was issued into the closed month"
            total = await session.scalar(select(func.count()).select_from(Statement).where(
                Statement.period == period))
            assert total == (1 if "ok" in (outcomes[0], outcomes[3]) else 0)
