"""Starting a retirement while usage after its end date is being recorded (PostgreSQL
only): the move to RETIRING takes the books' lock exclusively and recording usage takes
it shared, so one sees the other. Either the usage lands first and the end date before it
is refused, or the end date lands first and the usage is refused — never both kept. On
SQLite writers wait for each other's whole transaction; there is no race.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from spm_api.db.engine import create_session_factory
from spm_api.domain.actor import Actor
from spm_api.domain.finance import accounting
from spm_api.domain.finance.customers import create_customer
from spm_api.domain.portfolio.services import create_service
from spm_api.domain.portfolio.transitions import transition_service
from spm_api.models import Service
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import CustomerKind, InvestmentCategory, Role
from spm_api.vocabulary.errors import DomainError, ErrorCode
from spm_api.vocabulary.stages import Stage
from tests.support import Org
from tests.test_finance_concurrency import skip_on_sqlite

ROUNDS = 6


async def _outcome(db: AsyncEngine, work: Callable[[AsyncSession], Awaitable[object]]
                   ) -> str:
    """Run ``work`` in its own transaction; the error code, or "ok"."""
    async with create_session_factory(db)() as session:
        try:
            await work(session)
            await asyncio.sleep(0.01)  # hold the transaction open a moment
            await session.commit()
        except DomainError as error:
            await session.rollback()
            return error.problems[0].code.value
    return "ok"


async def test_usage_after_the_end_and_the_end_before_it_are_never_both_kept(
        db: AsyncEngine, org: Org, plugins: PluginHost) -> None:
    skip_on_sqlite(db)
    finance = Actor(org.person_ids[Role.FINANCE], org.id, frozenset({Role.FINANCE}))
    manager = Actor(org.person_ids[Role.PORTFOLIO_MANAGER], org.id,
                    frozenset({Role.PORTFOLIO_MANAGER}))
    async with create_session_factory(db)() as session:
        customer = (await create_customer(session, finance, "Sales",
                                          CustomerKind.INTERNAL_DEPARTMENT)).id
        services = [(await create_service(session, manager, name=f"Mail {n}",
                                          investment_category=InvestmentCategory.RUN)).id
                    for n in range(ROUNDS)]
        await session.execute(update(Service).values(stage=Stage.LIVE))
        await session.commit()

    for service_id in services:
        async def retire(session: AsyncSession, service_id: int = service_id) -> object:
            return await transition_service(session, manager, plugins, service_id,
                                            Stage.RETIRING, reason="replaced",
                                            planned_end_date=date(2026, 6, 30))

        async def use(session: AsyncSession, service_id: int = service_id) -> object:
            return await accounting.record_usage(session, finance, customer, service_id,
                                                 period="2026-07", amount="1",
                                                 unit_name="GB")

        retired, used = await asyncio.gather(_outcome(db, retire), _outcome(db, use))
        # Which one wins a round is the scheduler's choice; that only one does is not.
        assert (retired, used) in {("ok", ErrorCode.SERVICE_ENDED.value),
                                   (ErrorCode.GUARD_FAILED.value, "ok")}, (retired, used)
