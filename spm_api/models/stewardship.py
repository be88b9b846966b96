"""Measures of live services: KPIs and their measurements."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spm_api.db.base import Base, UTCDateTime, utcnow
from spm_api.models.columns import FixedDecimal, enum_type
from spm_api.vocabulary.enums import KpiDirection, KpiKind


class Kpi(Base):
    """A measure of one service, with a target and the thresholds that make it at risk
    (warning) or failing (breach). MEASURED KPIs may name a measurement source plugin
    and what to ask it; the other kinds are worked out from the finance tables."""

    __tablename__ = "kpi"
    __table_args__ = (UniqueConstraint("service_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(32), default="")
    kind: Mapped[KpiKind] = mapped_column(enum_type(KpiKind), default=KpiKind.MEASURED)
    direction: Mapped[KpiDirection] = mapped_column(enum_type(KpiDirection))
    target: Mapped[Decimal] = mapped_column(FixedDecimal())
    warning_threshold: Mapped[Decimal] = mapped_column(FixedDecimal())
    breach_threshold: Mapped[Decimal] = mapped_column(FixedDecimal())
    #: The measurement source plugin's registered name, and what to ask it.
    source: Mapped[str | None] = mapped_column(String(100), default=None)
    source_query: Mapped[str] = mapped_column(Text, default="")
    source_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Why the last pull from the source gave no value; None after one that did.
    pull_error: Mapped[str | None] = mapped_column(Text, default=None)
    pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Measurement(Base):
    """One value of a KPI, for a month (``period`` set, ``at`` its first instant) or at
    an instant (``period`` None). ``at`` orders a KPI's values: the latest is its
    current one."""

    __tablename__ = "measurement"
    #: The unique constraint's index also serves "a KPI's values, latest first".
    __table_args__ = (UniqueConstraint("kpi_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpi.id", ondelete="CASCADE"))
    period: Mapped[str | None] = mapped_column(String(7), default=None)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    value: Mapped[Decimal] = mapped_column(FixedDecimal())
    #: "manual", "csv:<file>:<line>", or the measurement source's name.
    source: Mapped[str] = mapped_column(String(200), default="manual")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), default=None)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
