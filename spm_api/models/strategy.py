"""Service strategy: business cases over fiscal years and the benefits realised, the
risk register, strategic objectives and the services aligned to them, and each
organisation's discount rate and target investment mix."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spm_api.db.base import Base, UTCDateTime, utcnow
from spm_api.models.columns import FixedDecimal, enum_type
from spm_api.vocabulary.enums import RiskStatus


class BusinessCaseYear(Base):
    """One fiscal year of a proposal's business case, in the organisation's currency:
    what it invests, what running it costs and what it is expected to bring that year."""

    __tablename__ = "business_case_year"
    __table_args__ = (UniqueConstraint("service_id", "fiscal_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column()
    investment: Mapped[Decimal] = mapped_column(FixedDecimal())
    running_cost: Mapped[Decimal] = mapped_column(FixedDecimal())
    benefit: Mapped[Decimal] = mapped_column(FixedDecimal())


class RealisedBenefit(Base):
    """The benefit a live service actually brought in one fiscal year, recorded to be
    compared with its business case. Recording a year again replaces the figure."""

    __tablename__ = "realised_benefit"
    __table_args__ = (UniqueConstraint("service_id", "fiscal_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column()
    amount: Mapped[Decimal] = mapped_column(FixedDecimal())
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Risk(Base):
    """A risk of a service: how likely (1-5), how bad (1-5), who owns it and how it is
    mitigated. Its exposure is likelihood x impact."""

    __tablename__ = "risk"
    __table_args__ = (
        CheckConstraint("likelihood BETWEEN 1 AND 5", name="likelihood_1_to_5"),
        CheckConstraint("impact BETWEEN 1 AND 5", name="impact_1_to_5"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    likelihood: Mapped[int] = mapped_column()
    impact: Mapped[int] = mapped_column()
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), default=None)
    mitigation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[RiskStatus] = mapped_column(enum_type(RiskStatus), default=RiskStatus.OPEN)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    closing_reason: Mapped[str | None] = mapped_column(Text, default=None)

    @property
    def exposure(self) -> int:
        return self.likelihood * self.impact


class StrategicObjective(Base):
    """An objective the organisation's strategy pursues; services are aligned to it."""

    __tablename__ = "strategic_objective"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ServiceAlignment(Base):
    """How much a service serves one strategic objective: a weight above 0, at most 1."""

    __tablename__ = "service_alignment"
    __table_args__ = (UniqueConstraint("service_id", "objective_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    objective_id: Mapped[int] = mapped_column(ForeignKey("strategic_objective.id"),
                                              index=True)
    weight: Mapped[Decimal] = mapped_column(FixedDecimal())


class StrategySettings(Base):
    """An organisation's discount rate for business cases and its target investment mix
    (run, grow, transform shares adding up to 1; none set until it sets one)."""

    __tablename__ = "strategy_settings"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"),
                                                 primary_key=True)
    discount_rate: Mapped[Decimal] = mapped_column(FixedDecimal())
    target_run: Mapped[Decimal | None] = mapped_column(FixedDecimal(), default=None)
    target_grow: Mapped[Decimal | None] = mapped_column(FixedDecimal(), default=None)
    target_transform: Mapped[Decimal | None] = mapped_column(FixedDecimal(), default=None)
