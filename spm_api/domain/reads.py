"""Reading the portfolio: filtered service queries, batched child lookups and counts.

Each batch function answers for many parents in one statement, so a request's
statement count depends on the depth of its selection, not on the rows returned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor
from spm_api.models import (
    Affirmation,
    ApprovalRound,
    Baseline,
    BudgetLine,
    BusinessCaseYear,
    Capability,
    Contractor,
    CostEntry,
    Customer,
    CustomerNeed,
    Engagement,
    EngagementAttempt,
    Kpi,
    MarketSegment,
    MarketSpace,
    Measurement,
    Person,
    PersonRole,
    PortfolioReview,
    Quote,
    RealisedBenefit,
    Requirement,
    Risk,
    Service,
    ServiceAlignment,
    ServiceLevel,
    ServiceOffering,
    StageChange,
    Stakeholder,
    StakeholderInput,
    StakeholderReport,
    Statement,
    StatementLine,
    StrategicObjective,
    Subscription,
    Vote,
)
from spm_api.vocabulary.enums import Health, InvestmentCategory, Role
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.stages import Section, Stage, section_of, stages_in

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class ServiceOrderField(StrEnum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    STAGE = "STAGE"


class SortDirection(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True)
class ServiceFilter:
    sections: Sequence[Section] = ()
    stages: Sequence[Stage] = ()
    investment_categories: Sequence[InvestmentCategory] = ()
    owner_ids: Sequence[int] = ()
    search: str | None = None
    #: Live services of these healths; ``stewardship.health.narrowed`` turns them into
    #: ``ids`` before the query is built.
    healths: Sequence[Health] = ()
    #: Only these services (None: no such restriction).
    ids: Sequence[int] | None = None


@dataclass(frozen=True)
class ServiceOrder:
    field: ServiceOrderField = ServiceOrderField.NAME
    direction: SortDirection = SortDirection.ASC


_ORDER_COLUMNS: dict[ServiceOrderField, Any] = {
    ServiceOrderField.NAME: Service.name,
    ServiceOrderField.CREATED_AT: Service.created_at,
    ServiceOrderField.UPDATED_AT: Service.updated_at,
    # Lifecycle order, not alphabetical.
    ServiceOrderField.STAGE: case({stage: index for index, stage in enumerate(Stage)},
                                  value=Service.stage),
}


def services_query(
    actor: Actor, where: ServiceFilter | None = None, order: ServiceOrder | None = None
) -> Select[Service]:
    """Services of the actor's organisation matching ``where``, in a stable order."""
    where = where or ServiceFilter()
    order = order or ServiceOrder()
    query = select(Service).where(Service.organisation_id == actor.organisation_id)
    stages = set(where.stages)
    if where.sections:
        in_sections = {stage for section in where.sections for stage in stages_in(section)}
        stages = stages & in_sections if stages else in_sections
        if not stages:
            stages = {None}  # type: ignore[arg-type]  # filters contradict: match nothing
    if stages:
        query = query.where(Service.stage.in_(stages))
    if where.investment_categories:
        query = query.where(Service.investment_category.in_(where.investment_categories))
    if where.owner_ids:
        query = query.where(Service.owner_id.in_(where.owner_ids))
    if where.healths:
        assert where.ids is not None, "a health filter is narrowed to ids first"
    if where.ids is not None:
        query = query.where(Service.id.in_(set(where.ids)))
    if where.search and where.search.strip():
        term = where.search.strip().lower()
        query = query.where(
            func.lower(Service.name).contains(term, autoescape=True)
            | func.lower(Service.summary).contains(term, autoescape=True)
            | func.lower(Service.objectives).contains(term, autoescape=True)
        )
    column = _ORDER_COLUMNS[order.field]
    if order.direction is SortDirection.DESC:
        return query.order_by(column.desc(), Service.id.desc())
    return query.order_by(column.asc(), Service.id.asc())


class Pages(Protocol[T_co]):
    """What a paginated field pages through: a slice at a time, and a count."""

    async def fetch(self, session: AsyncSession, offset: int, limit: int | None
                    ) -> Sequence[T_co]: ...

    async def count(self, session: AsyncSession) -> int: ...


@dataclass(frozen=True)
class Listing(Generic[T]):
    """Rows a query matches, fetched a slice at a time: what a paginated field pages
    through without seeing the SQL."""

    query: Select[T]

    async def fetch(self, session: AsyncSession, offset: int, limit: int | None
                    ) -> Sequence[T]:
        return await fetch_page(session, self.query, offset, limit)

    async def count(self, session: AsyncSession) -> int:
        return await count_rows(session, self.query)


def services(actor: Actor, where: ServiceFilter | None = None,
             order: ServiceOrder | None = None) -> Listing[Service]:
    """The services ``services_query`` matches, to page through."""
    return Listing(services_query(actor, where, order))


async def fetch_page(
    session: AsyncSession, query: Select[T], offset: int, limit: int | None
) -> Sequence[T]:
    return (await session.scalars(query.offset(offset).limit(limit))).all()


async def count_rows(session: AsyncSession, query: Select[Any]) -> int:
    counted = query.order_by(None).with_only_columns(func.count(), maintain_column_froms=True)
    return int(await session.scalar(counted) or 0)


ChildRow = TypeVar(
    "ChildRow", Requirement, StakeholderInput, StageChange, ApprovalRound, Baseline,
    Affirmation, Vote, BudgetLine, StatementLine, Capability, Engagement, Quote,
    EngagementAttempt, Kpi, Stakeholder, StakeholderReport, BusinessCaseYear, RealisedBenefit,
    Risk, ServiceAlignment,
    MarketSegment, Customer, CustomerNeed, ServiceOffering, ServiceLevel, Subscription,
)
TenantRow = TypeVar(
    "TenantRow", Service, Person, Requirement, StakeholderInput, StageChange, Vote, Affirmation,
    Customer, Statement, BudgetLine, CostEntry, Contractor, Engagement, Capability, Kpi,
    Measurement, PortfolioReview, Stakeholder, StakeholderReport, Risk, StrategicObjective,
    MarketSpace, MarketSegment, CustomerNeed, ServiceOffering, Subscription,
)


async def load_owned(session: AsyncSession, model: type[TenantRow], organisation_id: int,
                     row_id: int, field: str, *, for_update: bool = False) -> TenantRow:
    """The row of ``model`` with ``row_id`` in the organisation, or NOT_FOUND on ``field``
    ("no such service"): another tenant's row is as absent as a missing one. With
    ``for_update`` the row is locked until the transaction ends."""
    query = select(model).where(model.id == row_id, model.organisation_id == organisation_id)
    if for_update:
        query = query.with_for_update()
    row = await session.scalar(query)
    if row is None:
        raise fail(ErrorCode.NOT_FOUND, f"no such {model.__name__.lower()}", field)
    return row


async def children_of(
    session: AsyncSession,
    model: type[ChildRow],
    organisation_id: int,
    ids: Sequence[int],
    parent: str = "service_id",
) -> list[list[ChildRow]]:
    """Rows of ``model`` per parent id in ``ids`` (by default the service they belong
    to), oldest first, in one statement."""
    parent_column = getattr(model, parent)
    rows = await session.scalars(
        select(model)
        .where(model.organisation_id == organisation_id, parent_column.in_(set(ids)))
        .order_by(model.id)
    )
    grouped: dict[int, list[ChildRow]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, parent)].append(row)
    return [grouped.get(parent_id, []) for parent_id in ids]


async def rows_by_id(
    session: AsyncSession, model: type[TenantRow], organisation_id: int, ids: Sequence[int]
) -> list[TenantRow | None]:
    """Rows of ``model`` by id, None where the id is unknown or of another organisation."""
    rows = await session.scalars(
        select(model).where(model.organisation_id == organisation_id, model.id.in_(set(ids)))
    )
    by_id = {row.id: row for row in rows}
    return [by_id.get(key) for key in ids]


async def roles_of(
    session: AsyncSession, organisation_id: int, ids: Sequence[int]
) -> list[list[Role]]:
    rows = (
        await session.execute(
            select(PersonRole.person_id, PersonRole.role)
            .join(Person, Person.id == PersonRole.person_id)
            .where(Person.organisation_id == organisation_id,
                   PersonRole.person_id.in_(set(ids)))
            .order_by(PersonRole.role)
        )
    ).all()
    grouped: dict[int, list[Role]] = defaultdict(list)
    for person_id, role in rows:
        grouped[person_id].append(role)
    return [grouped.get(pid, []) for pid in ids]


@dataclass
class PortfolioCounts:
    """How many services sit in each section, stage and investment category."""

    total: int = 0
    by_section: dict[Section, int] = field(default_factory=lambda: dict.fromkeys(Section, 0))
    by_stage: dict[Stage, int] = field(default_factory=lambda: dict.fromkeys(Stage, 0))
    by_investment_category: dict[InvestmentCategory, int] = field(
        default_factory=lambda: dict.fromkeys(InvestmentCategory, 0)
    )


async def portfolio_counts(session: AsyncSession, actor: Actor) -> PortfolioCounts:
    """All three breakdowns from one GROUP BY over (stage, investment category)."""
    rows = (
        await session.execute(
            select(Service.stage, Service.investment_category, func.count())
            .where(Service.organisation_id == actor.organisation_id)
            .group_by(Service.stage, Service.investment_category)
        )
    ).all()
    counts = PortfolioCounts()
    for stage, category, number in rows:
        counts.total += number
        counts.by_stage[stage] += number
        counts.by_section[section_of(stage)] += number
        counts.by_investment_category[category] += number
    return counts
