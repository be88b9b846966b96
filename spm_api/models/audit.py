"""The audit trail: one immutable row per change, written in the change's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from spm_api.db.base import Base, UTCDateTime, utcnow
from spm_api.models.columns import enum_type
from spm_api.models.portfolio import ImmutableRecordError
from spm_api.vocabulary.audit import AuditAction, AuditEntity


class AuditEvent(Base):
    """Who changed what, when, from what to what, and through which plugin. Its id
    orders the trail (newest last); nothing updates or deletes a row (the ORM refuses,
    and on PostgreSQL a trigger too)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_organisation_id_id", "organisation_id", "id"),
        Index("ix_audit_event_entity", "organisation_id", "entity_kind", "entity_id", "id"),
        Index("ix_audit_event_person", "organisation_id", "person_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Who acted; None for the ``spm-api`` operator or the system itself.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), default=None)
    #: Their name when they acted (people's names may change; the record does not).
    person_name: Mapped[str] = mapped_column(String(200))
    entity_kind: Mapped[AuditEntity] = mapped_column(enum_type(AuditEntity))
    #: The row changed; None for a change of many rows at once (an import).
    entity_id: Mapped[int | None] = mapped_column(default=None)
    action: Mapped[AuditAction] = mapped_column(enum_type(AuditAction))
    #: The changed fields as they were (None for a creation) and as they became (None for
    #: a deletion), as JSON; secrets masked.
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: The plugin the change was made through or for (a plugin's settings, a contractor
    #: integration, a charging model), if any.
    via: Mapped[str | None] = mapped_column(String(100), default=None)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(_mapper: Mapper[Any], _conn: Connection, target: AuditEvent) -> None:
    raise ImmutableRecordError(f"audit event {target.id} is an immutable record")
