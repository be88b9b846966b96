"""Sourcing: the capabilities that deliver a service, the contractors that may supply
them, their quotes, and the engagement requests sent to contractors (an outbox)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spm_api.db import secrets
from spm_api.db.base import Base, UTCDateTime, utcnow
from spm_api.models.columns import FixedDecimal, enum_type
from spm_api.vocabulary.enums import AttemptKind, EngagementStatus, Sourcing


class Contractor(Base):
    """An external supplier in the organisation's registry, reached through a
    contractor-integration plugin with the settings kept here."""

    __tablename__ = "contractor"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(Text, default="")
    #: The name of the contractor integration (a plugin registers it).
    integration: Mapped[str] = mapped_column(String(100))
    #: The integration's settings (access tokens among them), sealed: see ``settings``.
    sealed_settings: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def settings(self) -> dict[str, Any]:
        """The integration's settings, opened with ``SPM_SECRET_KEYS``."""
        opened: dict[str, Any] = secrets.open_json(self.sealed_settings)
        return opened

    @settings.setter
    def settings(self, value: dict[str, Any]) -> None:
        self.sealed_settings = secrets.seal_json(value)


class Capability(Base):
    """What delivering a service needs (an "office"): staffed internally by an owner,
    or sourced from a contractor."""

    __tablename__ = "capability"
    __table_args__ = (UniqueConstraint("service_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    sourcing: Mapped[Sourcing] = mapped_column(enum_type(Sourcing))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), default=None)
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("contractor.id"),
                                                      default=None)
    estimated_cost: Mapped[Decimal | None] = mapped_column(FixedDecimal(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Quote(Base):
    """A contractor's price for a capability, as its integration returned it."""

    __tablename__ = "quote"
    __table_args__ = (Index("ix_quote_capability_id_id", "capability_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    capability_id: Mapped[int] = mapped_column(ForeignKey("capability.id"))
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"))
    amount: Mapped[Decimal] = mapped_column(FixedDecimal())
    valid_until: Mapped[date | None] = mapped_column(Date, default=None)
    reference: Mapped[str] = mapped_column(String(200), default="")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Engagement(Base):
    """An engagement request to a contractor, written in the chartering transaction and
    delivered after the commit by the outbox worker.

    A worker claims a due request by setting ``claimed_until`` (under a row lock on
    PostgreSQL), delivers it outside any transaction, then records the outcome; the
    ``idempotency_key`` is the same on every attempt."""

    __tablename__ = "engagement"
    __table_args__ = (
        Index("ix_engagement_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    capability_id: Mapped[int] = mapped_column(ForeignKey("capability.id"))
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[EngagementStatus] = mapped_column(enum_type(EngagementStatus),
                                                     default=EngagementStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    contractor_reference: Mapped[str | None] = mapped_column(String(200), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    #: Why the engagement is being cancelled (sent with the cancellation); None until then.
    cancellation_reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EngagementAttempt(Base):
    """One delivery attempt and what came of it."""

    __tablename__ = "engagement_attempt"
    __table_args__ = (Index("ix_engagement_attempt_engagement_id_id", "engagement_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagement.id"))
    #: What was delivered: the request, or its cancellation.
    kind: Mapped[AttemptKind] = mapped_column(enum_type(AttemptKind),
                                              default=AttemptKind.REQUEST)
    number: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: SENT, ACCEPTED, DECLINED, or ERROR (to be retried or, at the last, FAILED); for a
    #: cancellation CANCELLED, NOT_SUPPORTED (the integration cannot cancel) or ERROR.
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
