"""Per-request DataLoaders: one SQL statement per level of a query, whatever the row count."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from spm_api.domain import approval, reads
from spm_api.domain.enums import Role
from spm_api.domain.finance import business_case, charging
from spm_api.models import (
    Affirmation,
    ApprovalRound,
    Baseline,
    BudgetLine,
    Capability,
    ChargingPolicy,
    Contractor,
    CostEntry,
    Customer,
    Engagement,
    EngagementAttempt,
    Organisation,
    Person,
    Quote,
    Requirement,
    Service,
    StageChange,
    StakeholderInput,
    Statement,
    StatementLine,
    Vote,
)

V = TypeVar("V")
BatchRead = Callable[..., Awaitable[Sequence[V]]]


class Loaders:
    """Loaders bound to one session and one organisation; rebuilt after each commit."""

    def __init__(self, session: AsyncSession, organisation_id: int, lock: asyncio.Lock) -> None:
        self._session = session
        self._organisation_id = organisation_id
        self._lock = lock
        self.service: DataLoader[int, Service | None] = self._loader(
            partial(reads.rows_by_id, model=Service))
        self.person: DataLoader[int, Person | None] = self._loader(
            partial(reads.rows_by_id, model=Person))
        self.requirement: DataLoader[int, Requirement | None] = self._loader(
            partial(reads.rows_by_id, model=Requirement))
        self.stakeholder_input: DataLoader[int, StakeholderInput | None] = self._loader(
            partial(reads.rows_by_id, model=StakeholderInput))
        self.stage_change: DataLoader[int, StageChange | None] = self._loader(
            partial(reads.rows_by_id, model=StageChange))
        self.roles_of_person: DataLoader[int, list[Role]] = self._loader(reads.roles_of)
        self.requirements_of_service: DataLoader[int, list[Requirement]] = self._loader(
            partial(reads.children_of, model=Requirement))
        self.stakeholder_inputs_of_service: DataLoader[int, list[StakeholderInput]] = (
            self._loader(partial(reads.children_of, model=StakeholderInput)))
        self.stage_changes_of_service: DataLoader[int, list[StageChange]] = self._loader(
            partial(reads.children_of, model=StageChange))
        self.organisation: DataLoader[int, Organisation | None] = self._loader(
            self._organisations
        )
        self.vote: DataLoader[int, Vote | None] = self._loader(
            partial(reads.rows_by_id, model=Vote))
        self.affirmation: DataLoader[int, Affirmation | None] = self._loader(
            partial(reads.rows_by_id, model=Affirmation))
        self.approval_rounds_of_service: DataLoader[int, list[ApprovalRound]] = self._loader(
            partial(reads.children_of, model=ApprovalRound))
        self.baselines_of_service: DataLoader[int, list[Baseline]] = self._loader(
            partial(reads.children_of, model=Baseline))
        self.affirmations_of_service: DataLoader[int, list[Affirmation]] = self._loader(
            partial(reads.children_of, model=Affirmation))
        self.votes_of_round: DataLoader[int, list[Vote]] = self._loader(
            partial(reads.children_of, model=Vote, parent="round_id"))
        self.approval_setup: DataLoader[int, approval.ApprovalSetup] = self._loader(
            self._approval_setups)
        self.customer: DataLoader[int, Customer | None] = self._loader(
            partial(reads.rows_by_id, model=Customer))
        self.statement: DataLoader[int, Statement | None] = self._loader(
            partial(reads.rows_by_id, model=Statement))
        self.budget_line: DataLoader[int, BudgetLine | None] = self._loader(
            partial(reads.rows_by_id, model=BudgetLine))
        self.cost_entry: DataLoader[int, CostEntry | None] = self._loader(
            partial(reads.rows_by_id, model=CostEntry))
        self.budget_lines_of_service: DataLoader[int, list[BudgetLine]] = self._loader(
            partial(reads.children_of, model=BudgetLine))
        self.lines_of_statement: DataLoader[int, list[StatementLine]] = self._loader(
            partial(reads.children_of, model=StatementLine, parent="statement_id"))
        self.charging_policy_of_service: DataLoader[int, ChargingPolicy | None] = (
            self._loader(charging.policies_of))
        self.contractor: DataLoader[int, Contractor | None] = self._loader(
            partial(reads.rows_by_id, model=Contractor))
        self.capability: DataLoader[int, Capability | None] = self._loader(
            partial(reads.rows_by_id, model=Capability))
        self.engagement: DataLoader[int, Engagement | None] = self._loader(
            partial(reads.rows_by_id, model=Engagement))
        self.capabilities_of_service: DataLoader[int, list[Capability]] = self._loader(
            partial(reads.children_of, model=Capability))
        self.engagements_of_service: DataLoader[int, list[Engagement]] = self._loader(
            partial(reads.children_of, model=Engagement))
        self.quotes_of_capability: DataLoader[int, list[Quote]] = self._loader(
            partial(reads.children_of, model=Quote, parent="capability_id"))
        self.attempts_of_engagement: DataLoader[int, list[EngagementAttempt]] = self._loader(
            partial(reads.children_of, model=EngagementAttempt, parent="engagement_id"))
        self.monthly_budget_of_service: DataLoader[int, list[tuple[str, Decimal]]] = (
            self._loader(business_case.monthly_budgets))

    def _loader(self, batch: BatchRead[V]) -> DataLoader[int, V]:
        async def load(keys: list[int]) -> Sequence[V]:
            # One AsyncSession must never run two statements at once; sibling
            # fields resolve concurrently, so their batches take turns.
            async with self._lock:
                return await batch(
                    session=self._session, organisation_id=self._organisation_id, ids=keys
                )

        return DataLoader(load_fn=load)

    @staticmethod
    async def _organisations(
        *, session: AsyncSession, organisation_id: int, ids: Sequence[int]
    ) -> list[Organisation | None]:
        own = await session.get(Organisation, organisation_id)
        return [own if key == organisation_id else None for key in ids]

    @staticmethod
    async def _approval_setups(
        *, session: AsyncSession, organisation_id: int, ids: Sequence[int]
    ) -> list[approval.ApprovalSetup]:
        own = await approval.approval_setup(session, organisation_id)
        return [own for _ in ids]
