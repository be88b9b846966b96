"""Reporting back to stakeholders: who has a stake in a service, and the reports they
were given (frozen when issued)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, UniqueConstraint, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from spm_api.db.base import Base, UTCDateTime, utcnow
from spm_api.models.columns import enum_type
from spm_api.models.portfolio import ImmutableRecordError
from spm_api.vocabulary.enums import StakeholderRole
from spm_api.vocabulary.stages import Stage


class Stakeholder(Base):
    """A person of the organisation registered with a role on one service; the same
    person may hold several roles on it, each once."""

    __tablename__ = "stakeholder"
    __table_args__ = (UniqueConstraint("service_id", "person_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    role: Mapped[StakeholderRole] = mapped_column(enum_type(StakeholderRole))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StakeholderReport(Base):
    """What the stakeholders were told about a service at one moment: the baseline and
    the service now, the deviations, the KPIs with their health, the affirmations. The
    content is frozen when issued; later changes make a new report."""

    __tablename__ = "stakeholder_report"
    __table_args__ = (Index("ix_stakeholder_report_service_id_id", "service_id", "id"),
                      UniqueConstraint("service_id", "sequence"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    #: Its number in the service's series of reports: 1, 2, …
    sequence: Mapped[int] = mapped_column()
    stage: Mapped[Stage] = mapped_column(enum_type(Stage))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), default=None)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)


@event.listens_for(StakeholderReport, "before_update")
@event.listens_for(StakeholderReport, "before_delete")
def _refuse_change(_mapper: Mapper[Any], _conn: Connection, target: StakeholderReport
                   ) -> None:
    raise ImmutableRecordError(f"StakeholderReport {target.id} is an immutable record")
