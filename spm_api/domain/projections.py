"""Reads by projection: only the columns a planned query asks for, as plain tuples.

The planned read path (``graphql/planned``) reads each level of a query in one
statement without building ORM objects; these functions are its SQL. They use the same
relations, tenancy filters and orders as the batch reads behind the DataLoaders
(``domain.batches``), so both paths see the same rows in the same order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.batches import CHILDREN, ROWS_BY_ID
from spm_api.domain.reads import Listing
from spm_api.models import Organisation

Row = tuple[Any, ...]


def _columns(model: type[Any], names: Sequence[str]) -> list[Any]:
    return [getattr(model, name) for name in names]


async def page(session: AsyncSession, listing: Listing[Any], columns: Sequence[str],
               offset: int, limit: int | None) -> list[Row]:
    """A slice of ``listing`` (its filter and order kept), as ``columns``."""
    model = listing.query.column_descriptions[0]["entity"]
    query = listing.query.with_only_columns(*_columns(model, columns),
                                            maintain_column_froms=True)
    result = await session.execute(query.offset(offset).limit(limit))
    return [tuple(row) for row in result]


async def children(session: AsyncSession, relation: str, organisation_id: int,
                   parent_ids: Sequence[int], columns: Sequence[str]) -> dict[int, list[Row]]:
    """Rows of a child relation (``batches.CHILDREN``) per parent id, oldest first."""
    model, parent = CHILDREN[relation]
    if not parent_ids:
        return {}
    result = await session.execute(
        select(getattr(model, parent), *_columns(model, columns))
        .where(model.organisation_id == organisation_id,
               getattr(model, parent).in_(set(parent_ids)))
        .order_by(model.id))
    grouped: dict[int, list[Row]] = defaultdict(list)
    for parent_id, *values in result:
        grouped[parent_id].append(tuple(values))
    return grouped


async def by_id(session: AsyncSession, relation: str, organisation_id: int,
                ids: Sequence[int], columns: Sequence[str]) -> dict[int, Row]:
    """Rows of a relation loaded by id (``batches.ROWS_BY_ID``), in the organisation."""
    model = ROWS_BY_ID[relation]
    if not ids:
        return {}
    result = await session.execute(
        select(model.id, *_columns(model, columns))
        .where(model.organisation_id == organisation_id, model.id.in_(set(ids))))
    return {row_id: tuple(values) for row_id, *values in result}


async def currency_of(session: AsyncSession, organisation_id: int) -> str:
    """The currency the organisation keeps its books in."""
    currency: str | None = await session.scalar(
        select(Organisation.currency).where(Organisation.id == organisation_id))
    assert currency is not None, "an actor's organisation exists"
    return currency
