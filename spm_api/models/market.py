"""The market: market spaces and the segments in them, customers, their needs, the
service offerings that package services for a segment (service levels, price list) and
customers' subscriptions to offerings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spm_api.db.base import Base, UTCDateTime, utcnow
from spm_api.models.columns import FixedDecimal, enum_type
from spm_api.vocabulary.enums import CustomerKind


class MarketSpace(Base):
    """A set of opportunities the organisation serves (e.g. "workplace IT")."""

    __tablename__ = "market_space"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class MarketSegment(Base):
    __tablename__ = "market_segment"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    needs: Mapped[str] = mapped_column(Text, default="")
    market_space_id: Mapped[int] = mapped_column(ForeignKey("market_space.id"), index=True)


class Customer(Base):
    __tablename__ = "customer"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CustomerKind] = mapped_column(enum_type(CustomerKind))
    market_segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("market_segment.id"), index=True, default=None
    )


class CustomerNeed(Base):
    """An outcome a segment (or one customer) wants, and how much it matters to them."""

    __tablename__ = "customer_need"
    __table_args__ = (
        CheckConstraint("importance BETWEEN 1 AND 5", name="importance_range"),
        CheckConstraint("(segment_id IS NULL) <> (customer_id IS NULL)", name="one_holder"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    outcome: Mapped[str] = mapped_column(Text)
    importance: Mapped[int] = mapped_column()
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("market_segment.id"),
                                                   index=True, default=None)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True,
                                                    default=None)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), default=None)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NeedLink(Base):
    """A need met by a service or by an offering (exactly one of the two)."""

    __tablename__ = "need_link"
    __table_args__ = (
        UniqueConstraint("need_id", "service_id", "offering_id"),
        CheckConstraint("(service_id IS NULL) <> (offering_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("customer_need.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), index=True,
                                                   default=None)
    offering_id: Mapped[int | None] = mapped_column(ForeignKey("service_offering.id"),
                                                    index=True, default=None)


class ServiceOffering(Base):
    """Services packaged for a segment, with service levels and, once finance prices it,
    a price list: a charging model and its normalised parameters."""

    __tablename__ = "service_offering"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    segment_id: Mapped[int] = mapped_column(ForeignKey("market_segment.id"), index=True)
    charging_model: Mapped[str | None] = mapped_column(String(100), default=None)
    charging_parameters: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OfferingService(Base):
    """A service an offering packages."""

    __tablename__ = "offering_service"
    __table_args__ = (UniqueConstraint("offering_id", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("service_offering.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)


class ServiceLevel(Base):
    """A named target an offering promises for one of its services: one of the service's
    KPIs (``kpi_id``) or, where it has none, a free-named target with a unit."""

    __tablename__ = "service_level"
    __table_args__ = (UniqueConstraint("offering_id", "service_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("service_offering.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    kpi_id: Mapped[int | None] = mapped_column(ForeignKey("kpi.id"), index=True, default=None)
    name: Mapped[str] = mapped_column(String(200))
    target: Mapped[Decimal] = mapped_column(FixedDecimal())
    unit: Mapped[str] = mapped_column(String(32), default="")


class Subscription(Base):
    """A customer taking an offering from ``start_period`` through ``end_period``
    (open-ended while None), months inclusive."""

    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("service_offering.id"), index=True)
    start_period: Mapped[str] = mapped_column(String(7))
    end_period: Mapped[str | None] = mapped_column(String(7), default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
