"""Column helpers shared by the models."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import Enum as PyEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Enum
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


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


#: Decimal places every money amount and quantity is stored with: enough for any ISO
#: 4217 minor unit (at most four) and for fractional usage.
FIXED_SCALE = 4
_FACTOR = Decimal(10) ** FIXED_SCALE


class FixedDecimal(TypeDecorator[Decimal]):
    """An exact decimal stored as a scaled BIGINT (ten-thousandths).

    SQLite has no exact decimal type (SQLAlchemy's ``Numeric`` goes through floats
    there), so amounts are stored as integers on every backend: sums in SQL stay
    exact, and the same bytes mean the same money on SQLite and PostgreSQL.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * _FACTOR
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {FIXED_SCALE} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_fixed(value)

    def result_processor(self, dialect: Dialect, coltype: Any
                         ) -> Callable[[Any], Decimal | None]:
        """``process_result_value`` itself where the driver hands integers over as they
        are (every supported one): one call per value read, not three."""
        if self.impl_instance.result_processor(dialect, coltype) is not None:
            return super().result_processor(dialect, coltype)  # type: ignore[return-value]
        return _stored

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


def _stored(value: Any) -> Decimal | None:
    return None if value is None else from_fixed(value)


@lru_cache(maxsize=1 << 16)
def from_fixed(value: int | Decimal) -> Decimal:
    """A stored (or SQL-summed) scaled integer as its exact decimal. Remembered: read
    in bulk, amounts repeat (thresholds, prices, quantities), and a Decimal is
    immutable, so one instance may stand for every equal amount."""
    return Decimal(int(value)).scaleb(-FIXED_SCALE)
