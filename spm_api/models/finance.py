"""IT financial management: budgets, actual costs, usage, charging policies and the
statements a charging run issues. Every amount is in the organisation's currency."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from spm_api.db.base import Base, UTCDateTime, utcnow
from spm_api.models.columns import FixedDecimal
from spm_api.models.portfolio import ImmutableRecordError

#: A month as ``YYYY-MM``: sorts and groups as text on every backend.
PeriodColumn = String(7)


class CostCategory(Base):
    """A cost category an organisation adds to the standard ones."""

    __tablename__ = "cost_category"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))


class BudgetLine(Base):
    """Planned cost of one service in one month and cost category."""

    __tablename__ = "budget_line"
    __table_args__ = (
        UniqueConstraint("service_id", "period", "category"),
        Index("ix_budget_line_organisation_period", "organisation_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    period: Mapped[str] = mapped_column(PeriodColumn)
    category: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(FixedDecimal())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CostEntry(Base):
    """Actual cost booked against a service. ``period`` is the month of ``booked_on``,
    stored so reports group by it in SQL."""

    __tablename__ = "cost_entry"
    __table_args__ = (
        Index("ix_cost_entry_organisation_period", "organisation_id", "period"),
        Index("ix_cost_entry_service_period", "service_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    booked_on: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(PeriodColumn)
    category: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(FixedDecimal())
    description: Mapped[str] = mapped_column(Text, default="")
    #: Where the entry came from: "manual", "csv:<file>:<line>", a contractor invoice …
    source: Mapped[str] = mapped_column(String(200), default="manual")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UsageRecord(Base):
    """How much of a service a customer consumed in a month."""

    __tablename__ = "usage_record"
    __table_args__ = (
        Index("ix_usage_record_organisation_period", "organisation_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    period: Mapped[str] = mapped_column(PeriodColumn)
    quantity: Mapped[Decimal] = mapped_column(FixedDecimal())
    unit: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(200), default="manual")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChargingPolicy(Base):
    """How a service is charged: a charging model and its validated parameters.
    A service without one is a cost centre (the ``none`` model)."""

    __tablename__ = "charging_policy"

    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    model: Mapped[str] = mapped_column(String(100))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChargeAdjustment(Base):
    """A correction to a closed period's charges, billed in a later, open period."""

    __tablename__ = "charge_adjustment"
    __table_args__ = (
        Index("ix_charge_adjustment_organisation_period", "organisation_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    #: The open period whose statement carries the adjustment.
    period: Mapped[str] = mapped_column(PeriodColumn)
    #: The closed period being corrected.
    corrects_period: Mapped[str] = mapped_column(PeriodColumn)
    amount: Mapped[Decimal] = mapped_column(FixedDecimal())
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ClosedPeriod(Base):
    """A month whose books are closed: its statements are final and its costs and usage
    can no longer change."""

    __tablename__ = "closed_period"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"),
                                                 primary_key=True)
    period: Mapped[str] = mapped_column(PeriodColumn, primary_key=True)
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Statement(Base):
    """What one customer is charged for one period. Re-issuing an open period replaces
    it; once the period is closed it never changes."""

    __tablename__ = "statement"
    __table_args__ = (UniqueConstraint("customer_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    period: Mapped[str] = mapped_column(PeriodColumn)
    currency: Mapped[str] = mapped_column(String(3))
    #: What the customer is billed: the billed lines' sum.
    total: Mapped[Decimal] = mapped_column(FixedDecimal())
    #: What showback lines report without billing.
    notional_total: Mapped[Decimal] = mapped_column(FixedDecimal())
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class StatementLine(Base):
    __tablename__ = "statement_line"
    __table_args__ = (Index("ix_statement_line_statement_id_id", "statement_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    statement_id: Mapped[int] = mapped_column(ForeignKey("statement.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    model: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(FixedDecimal())
    billed: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(Text, default="")
    #: Set on adjustment lines: the closed period they correct.
    corrects_period: Mapped[str | None] = mapped_column(PeriodColumn, default=None)


@event.listens_for(Statement, "before_update")
@event.listens_for(Statement, "before_delete")
def _refuse_closed_statement(_mapper: Mapper[Statement], _conn: Connection,
                             target: Statement) -> None:
    closed_before = inspect(target).attrs.closed_at.history.deleted or [target.closed_at]
    if closed_before[0] is not None:
        raise ImmutableRecordError(
            f"statement {target.id} belongs to the closed period {target.period}")
