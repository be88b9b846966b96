"""Organisations (tenants), their people, roles and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spm_api.db.base import Base, UTCDateTime, utcnow
from spm_api.models.columns import enum_type
from spm_api.vocabulary.enums import Role


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    #: The ISO 4217 currency the organisation keeps its books in.
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    #: The month (1-12) its fiscal year starts in.
    fiscal_year_start_month: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Person(Base):
    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("organisation_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Set while the person is deactivated: none of their tokens authenticates.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class PersonRole(Base):
    """One role held by one person; a person may hold several."""

    __tablename__ = "person_role"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(enum_type(Role), primary_key=True)


class ApiToken(Base):
    """A bearer token. Only its SHA-256 hash is stored; ``label`` is its name."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: After this instant the token no longer authenticates (None: never expires).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: When the secret was last replaced (the hash above is the new secret's).
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
