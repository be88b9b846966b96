"""Customers and the market segments that group them."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spm_api.db.base import Base
from spm_api.models.columns import enum_type
from spm_api.vocabulary.enums import CustomerKind


class MarketSegment(Base):
    __tablename__ = "market_segment"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    needs: Mapped[str] = mapped_column(Text, default="")


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
