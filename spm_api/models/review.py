"""Portfolio reviews: a periodic look at the catalogue, one item per service with a
recommendation, the decision makers' votes on it, and the decision."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spm_api.db.base import Base, UTCDateTime, utcnow
from spm_api.models.columns import enum_type
from spm_api.vocabulary.enums import Decision, ItemDecision, Recommendation, ReviewState


class PortfolioReview(Base):
    """A review of some catalogue services over a span of months (``YYYY-MM``). Once
    DECIDED it accepts no change."""

    __tablename__ = "portfolio_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    period_from: Mapped[str] = mapped_column(String(7))
    period_to: Mapped[str] = mapped_column(String(7))
    state: Mapped[ReviewState] = mapped_column(enum_type(ReviewState),
                                               default=ReviewState.OPEN)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class ReviewItem(Base):
    """One service under review: the recommendation (RETAIN until someone recommends
    otherwise), the service it is replaced by or merged into, and the decision."""

    __tablename__ = "review_item"
    __table_args__ = (UniqueConstraint("review_id", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    review_id: Mapped[int] = mapped_column(
        ForeignKey("portfolio_review.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    recommendation: Mapped[Recommendation] = mapped_column(
        enum_type(Recommendation), default=Recommendation.RETAIN)
    #: REPLACE: the successor; RATIONALISE: the service it is merged into.
    successor_service_id: Mapped[int | None] = mapped_column(
        ForeignKey("service.id"), default=None)
    #: RETIRE: the last day the service is delivered once the review is decided.
    planned_end_date: Mapped[date | None] = mapped_column(Date, default=None)
    rationale: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[ItemDecision] = mapped_column(enum_type(ItemDecision),
                                                   default=ItemDecision.PROPOSED)
    #: The rules' explanation of the decision, kept when the review is decided.
    verdict: Mapped[str] = mapped_column(Text, default="")
    #: INVEST: the proposal opened in DEFINITION when the review is decided.
    proposal_service_id: Mapped[int | None] = mapped_column(
        ForeignKey("service.id"), default=None)
    recommended_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"),
                                                          default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewVote(Base):
    """A decision maker's vote on one item's recommendation; the latest counts."""

    __tablename__ = "review_vote"
    __table_args__ = (Index("ix_review_vote_item_id_id", "item_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_item.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    decision: Mapped[Decision] = mapped_column(enum_type(Decision))
    comment: Mapped[str] = mapped_column(Text, default="")
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
