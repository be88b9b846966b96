"""Services, their requirements, stakeholder input and stage history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    case,
    event,
    type_coerce,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, Mapper, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from spm_api.db.base import Base, UTCDateTime, utcnow
from spm_api.models.columns import FixedDecimal, enum_type
from spm_api.vocabulary.enums import InvestmentCategory, Necessity, Position
from spm_api.vocabulary.stages import SECTION_OF_STAGE, Section, Stage


class Service(Base):
    """The portfolio item. ``version`` is bumped on every change to the aggregate."""

    __tablename__ = "service"
    __table_args__ = (
        UniqueConstraint("organisation_id", "name"),
        Index("ix_service_organisation_stage", "organisation_id", "stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    investment_category: Mapped[InvestmentCategory] = mapped_column(
        enum_type(InvestmentCategory)
    )
    stage: Mapped[Stage] = mapped_column(enum_type(Stage), default=Stage.DEFINITION)
    #: The business case, in the organisation's currency: what delivering the service
    #: is expected to cost, and what it is expected to bring.
    estimated_cost: Mapped[Decimal | None] = mapped_column(FixedDecimal(), default=None)
    expected_benefit: Mapped[Decimal | None] = mapped_column(FixedDecimal(), default=None)
    #: Set when the service starts RETIRING: the last day it is delivered. Usage and
    #: charges for months after it are refused.
    planned_end_date: Mapped[date | None] = mapped_column(Date, default=None)
    #: Set by a decided portfolio review: the service that replaces this one (REPLACE)
    #: or that it is merged into (RATIONALISE).
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), default=None)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __mapper_args__ = {"version_id_col": version}

    @hybrid_property
    def section(self) -> Section:
        """Derived from the stage: a dict lookup in Python, a CASE in SQL."""
        return SECTION_OF_STAGE[self.stage]

    @section.inplace.expression
    @classmethod
    def _section_expression(cls) -> ColumnElement[Section]:
        return type_coerce(
            case({stage: sec for stage, sec in SECTION_OF_STAGE.items()}, value=cls.stage),
            enum_type(Section),  # type: ignore[arg-type]
        )

class Requirement(Base):
    __tablename__ = "requirement"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    necessity: Mapped[Necessity] = mapped_column(
        enum_type(Necessity), default=Necessity.UNASSESSED
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    judged_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), default=None)
    judged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    judgement_reason: Mapped[str | None] = mapped_column(Text, default=None)


class StakeholderInput(Base):
    __tablename__ = "stakeholder_input"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    position: Mapped[Position] = mapped_column(enum_type(Position))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StageChange(Base):
    """Immutable audit record of one transition. Its id orders the history."""

    __tablename__ = "stage_change"
    __table_args__ = (Index("ix_stage_change_service_id_id", "service_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    from_stage: Mapped[Stage | None] = mapped_column(enum_type(Stage))
    to_stage: Mapped[Stage] = mapped_column(enum_type(Stage))
    actor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ImmutableRecordError(RuntimeError):
    """Raised when code tries to change or delete an audit record."""


@event.listens_for(StageChange, "before_update")
@event.listens_for(StageChange, "before_delete")
def _refuse_change(_mapper: Mapper[StageChange], _conn: Connection, target: StageChange) -> None:
    raise ImmutableRecordError(f"stage change {target.id} is an immutable audit record")
