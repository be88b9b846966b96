"""Approval rounds and votes, the organisation's choice of rules, plugin settings,
the baseline frozen at chartering and the stakeholders' affirmations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from spm_api.db.base import Base, UTCDateTime, utcnow
from spm_api.models.columns import enum_type
from spm_api.models.portfolio import ImmutableRecordError
from spm_api.vocabulary.enums import ApprovalStatus, Decision, Verdict


class ApprovalRound(Base):
    """Opened when a service enters APPROVAL; closed, with the rules' verdicts frozen,
    when it leaves. Its row is the lock that serialises votes and the decision."""

    __tablename__ = "approval_round"
    __table_args__ = (Index("ix_approval_round_service_id_id", "service_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    outcome: Mapped[ApprovalStatus | None] = mapped_column(
        enum_type(ApprovalStatus), default=None
    )
    #: The verdict of each rule when the round closed: [{rule, plugin, status, explanation}].
    verdicts: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, default=None)


class Vote(Base):
    """One vote as cast. A later vote by the same person in the same round replaces it
    in the count; both stay, so the history shows every change of mind."""

    __tablename__ = "vote"
    __table_args__ = (Index("ix_vote_round_id_id", "round_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    round_id: Mapped[int] = mapped_column(ForeignKey("approval_round.id"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    decision: Mapped[Decision] = mapped_column(enum_type(Decision))
    comment: Mapped[str] = mapped_column(Text, default="")
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApprovalRuleChoice(Base):
    """One approval rule an organisation applies. No rows means the default rule."""

    __tablename__ = "approval_rule_choice"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    rule: Mapped[str] = mapped_column(String(100), primary_key=True)


class PluginSettings(Base):
    """An organisation's settings for one plugin, validated by that plugin."""

    __tablename__ = "plugin_settings"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    plugin: Mapped[str] = mapped_column(String(100), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Baseline(Base):
    """What was agreed at chartering, frozen, so deviation can be reported back."""

    __tablename__ = "baseline"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), unique=True)
    stage_change_id: Mapped[int] = mapped_column(ForeignKey("stage_change.id"))
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: {"objectives", "summary", "estimated_cost", "requirements": [{id, text, necessity}]}
    content: Mapped[dict[str, Any]] = mapped_column(JSON)


class Affirmation(Base):
    """A stakeholder's confirmation that the delivered outcome meets the charter, given
    knowing how many deviations from the baseline there were."""

    __tablename__ = "affirmation"
    __table_args__ = (Index("ix_affirmation_service_id_id", "service_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    deviation_count: Mapped[int] = mapped_column(default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: AFFIRMED, or DISPUTED with the reason in ``comment``.
    verdict: Mapped[Verdict] = mapped_column(enum_type(Verdict), default=Verdict.AFFIRMED)
    #: The stakeholder report the verdict was given on, when one was named.
    report_id: Mapped[int | None] = mapped_column(ForeignKey("stakeholder_report.id"),
                                                  default=None)
    #: How the portfolio manager settled a dispute; None while it is open.
    resolution: Mapped[str | None] = mapped_column(Text, default=None)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


@event.listens_for(Vote, "before_update")
@event.listens_for(Vote, "before_delete")
@event.listens_for(Baseline, "before_update")
@event.listens_for(Baseline, "before_delete")
def _refuse_change(_mapper: Mapper[Any], _conn: Connection, target: Vote | Baseline) -> None:
    raise ImmutableRecordError(f"{type(target).__name__} {target.id} is an immutable record")
