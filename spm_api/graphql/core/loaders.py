"""Per-request DataLoaders: one SQL statement per level of a query, whatever the row count."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from functools import cached_property, partial
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from spm_api.domain import reads
from spm_api.domain.approvals import rounds as approval
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
from spm_api.vocabulary.enums import Role

V = TypeVar("V")
BatchRead = Callable[..., Awaitable[Sequence[V]]]


class Loaders:
    """Loaders bound to one session and one organisation; rebuilt after each commit."""

    def __init__(self, session: AsyncSession, organisation_id: int, lock: asyncio.Lock) -> None:
        self._session = session
        self._organisation_id = organisation_id
        self._lock = lock

    # Each loader is built on first use: a request (or a subscription event) pays only
    # for the relations its selection touches.

    @cached_property
    def service(self) -> DataLoader[int, Service | None]:
        return self._loader(partial(reads.rows_by_id, model=Service))

    @cached_property
    def person(self) -> DataLoader[int, Person | None]:
        return self._loader(partial(reads.rows_by_id, model=Person))

    @cached_property
    def requirement(self) -> DataLoader[int, Requirement | None]:
        return self._loader(partial(reads.rows_by_id, model=Requirement))

    @cached_property
    def stakeholder_input(self) -> DataLoader[int, StakeholderInput | None]:
        return self._loader(partial(reads.rows_by_id, model=StakeholderInput))

    @cached_property
    def stage_change(self) -> DataLoader[int, StageChange | None]:
        return self._loader(partial(reads.rows_by_id, model=StageChange))

    @cached_property
    def roles_of_person(self) -> DataLoader[int, list[Role]]:
        return self._loader(reads.roles_of)

    @cached_property
    def requirements_of_service(self) -> DataLoader[int, list[Requirement]]:
        return self._loader(partial(reads.children_of, model=Requirement))

    @cached_property
    def stakeholder_inputs_of_service(self) -> DataLoader[int, list[StakeholderInput]]:
        return self._loader(partial(reads.children_of, model=StakeholderInput))

    @cached_property
    def stage_changes_of_service(self) -> DataLoader[int, list[StageChange]]:
        return self._loader(partial(reads.children_of, model=StageChange))

    @cached_property
    def organisation(self) -> DataLoader[int, Organisation | None]:
        return self._loader(self._organisations)

    @cached_property
    def vote(self) -> DataLoader[int, Vote | None]:
        return self._loader(partial(reads.rows_by_id, model=Vote))

    @cached_property
    def affirmation(self) -> DataLoader[int, Affirmation | None]:
        return self._loader(partial(reads.rows_by_id, model=Affirmation))

    @cached_property
    def approval_rounds_of_service(self) -> DataLoader[int, list[ApprovalRound]]:
        return self._loader(partial(reads.children_of, model=ApprovalRound))

    @cached_property
    def baselines_of_service(self) -> DataLoader[int, list[Baseline]]:
        return self._loader(partial(reads.children_of, model=Baseline))

    @cached_property
    def affirmations_of_service(self) -> DataLoader[int, list[Affirmation]]:
        return self._loader(partial(reads.children_of, model=Affirmation))

    @cached_property
    def votes_of_round(self) -> DataLoader[int, list[Vote]]:
        return self._loader(partial(reads.children_of, model=Vote, parent="round_id"))

    @cached_property
    def approval_setup(self) -> DataLoader[int, approval.ApprovalSetup]:
        return self._loader(self._approval_setups)

    @cached_property
    def customer(self) -> DataLoader[int, Customer | None]:
        return self._loader(partial(reads.rows_by_id, model=Customer))

    @cached_property
    def statement(self) -> DataLoader[int, Statement | None]:
        return self._loader(partial(reads.rows_by_id, model=Statement))

    @cached_property
    def budget_line(self) -> DataLoader[int, BudgetLine | None]:
        return self._loader(partial(reads.rows_by_id, model=BudgetLine))

    @cached_property
    def cost_entry(self) -> DataLoader[int, CostEntry | None]:
        return self._loader(partial(reads.rows_by_id, model=CostEntry))

    @cached_property
    def budget_lines_of_service(self) -> DataLoader[int, list[BudgetLine]]:
        return self._loader(partial(reads.children_of, model=BudgetLine))

    @cached_property
    def lines_of_statement(self) -> DataLoader[int, list[StatementLine]]:
        return self._loader(partial(reads.children_of, model=StatementLine, parent="statement_id"))

    @cached_property
    def charging_policy_of_service(self) -> DataLoader[int, ChargingPolicy | None]:
        return self._loader(charging.policies_of)

    @cached_property
    def contractor(self) -> DataLoader[int, Contractor | None]:
        return self._loader(partial(reads.rows_by_id, model=Contractor))

    @cached_property
    def capability(self) -> DataLoader[int, Capability | None]:
        return self._loader(partial(reads.rows_by_id, model=Capability))

    @cached_property
    def engagement(self) -> DataLoader[int, Engagement | None]:
        return self._loader(partial(reads.rows_by_id, model=Engagement))

    @cached_property
    def capabilities_of_service(self) -> DataLoader[int, list[Capability]]:
        return self._loader(partial(reads.children_of, model=Capability))

    @cached_property
    def engagements_of_service(self) -> DataLoader[int, list[Engagement]]:
        return self._loader(partial(reads.children_of, model=Engagement))

    @cached_property
    def quotes_of_capability(self) -> DataLoader[int, list[Quote]]:
        return self._loader(partial(reads.children_of, model=Quote, parent="capability_id"))

    @cached_property
    def attempts_of_engagement(self) -> DataLoader[int, list[EngagementAttempt]]:
        return self._loader(partial(reads.children_of, model=EngagementAttempt,
                                    parent="engagement_id"))

    @cached_property
    def monthly_budget_of_service(self) -> DataLoader[int, list[tuple[str, Decimal]]]:
        return self._loader(business_case.monthly_budgets)

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
