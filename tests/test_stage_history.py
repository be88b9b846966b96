"""An organisation's stage changes commit in id order (PostgreSQL): a second writer
waits for the first to commit, so "every change after cursor N" never skips one that
commits late. On SQLite one writer runs at a time anyway."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.engine import create_session_factory
from spm_api.domain.actor import Actor
from spm_api.domain.portfolio.services import create_service
from spm_api.vocabulary.enums import InvestmentCategory, Role
from tests.support import Org


async def test_a_second_stage_change_writer_waits_for_the_first_to_commit(
        db: AsyncEngine, org: Org, other_org: Org) -> None:
    if db.url.get_backend_name() == "sqlite":
        pytest.skip("concurrent writers are exercised on PostgreSQL")
    sessions = create_session_factory(db)

    def actor_of(owner: Org) -> Actor:
        return Actor(owner.person_ids[Role.CONTRIBUTOR], owner.id,
                     frozenset({Role.CONTRIBUTOR}))

    async def propose(owner: Org, name: str) -> int:
        async with sessions() as session, session.begin():
            service = await create_service(session, actor_of(owner), name=name,
                                           investment_category=InvestmentCategory.RUN)
            return service.id

    async with sessions() as first:
        await create_service(first, actor_of(org), name="First",
                             investment_category=InvestmentCategory.RUN)
        second = asyncio.create_task(propose(org, "Second"))
        elsewhere = asyncio.create_task(propose(other_org, "Elsewhere"))
        await asyncio.sleep(0.5)
        assert elsewhere.done(), "another organisation's history does not wait"
        assert not second.done(), "the second writer must wait for the first to commit"
        await first.commit()
    await asyncio.wait_for(second, 5)
