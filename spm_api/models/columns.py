"""Column helpers shared by the models."""

from __future__ import annotations

from enum import Enum as PyEnum

from sqlalchemy import Enum


def enum_type(enum_class: type[PyEnum]) -> Enum:
    """Store an enum by its value as a plain string (no native ENUM types to migrate)."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
