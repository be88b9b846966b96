"""Reads by projection: only the columns a planned query asks for, as plain tuples.

The planned read path (``graphql/planned``) reads each level of a query in one
statement without building ORM objects; these functions are its SQL. They use the same
relations, tenancy filters and orders as the batch reads behind the DataLoaders
(``domain.batches``), so both paths see the same rows in the same order.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.batches import CHILDREN, ROWS_BY_ID
from spm_api.domain.plain import result_processor as _processor
from spm_api.domain.reads import Listing
from spm_api.models import Organisation

Row = tuple[Any, ...]


def _columns(model: type[Any], names: Sequence[str]) -> list[Any]:
    return [getattr(model, name) for name in names]


async def page(session: AsyncSession, listing: Listing[Any], columns: Sequence[str],
               offset: int, limit: int | None, counted: bool = False
               ) -> tuple[list[Row], int | None]:
    """A slice of ``listing`` (its filter and order kept), as ``columns``; with
    ``counted``, also how many rows the whole listing has, in the same statement
    (``count(*) OVER ()``; None when the slice is empty past the first row: ask
    ``listing.count`` then)."""
    model = listing.query.column_descriptions[0]["entity"]
    selected = _columns(model, columns)
    if counted:
        selected.append(func.count().over())
    query = listing.query.with_only_columns(*selected, maintain_column_froms=True)
    # On the session's connection (its transaction), as Core: the columns need no ORM
    # result set-up, and the ORM's per-statement work is what a planned read skips.
    connection = await session.connection()
    rows = [tuple(row) for row in await connection.execute(query.offset(offset).limit(limit))]
    if not counted:
        return rows, None
    if not rows:
        return [], 0 if offset == 0 else None
    return [row[:-1] for row in rows], int(rows[0][-1])


@dataclass(frozen=True, slots=True)
class Statement:
    """One projection's SQL for one dialect, compiled once: its text and how each
    column's raw value becomes what SQLAlchemy would have given (the column types'
    own result processors: enums, exact decimals, UTC datetimes, JSON)."""

    sql: str
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def decoded(self, row: Sequence[Any]) -> Row:
        if not self.processors:
            return tuple(row)
        values = list(row)
        for index, process in self.processors:
            values[index] = process(values[index])
        return tuple(values)


_STATEMENTS: dict[tuple[Any, ...], Statement] = {}

#: A row of another relation read with each row, by a foreign key: the key's column,
#: the relation (``batches.ROWS_BY_ID``) and the columns of it wanted besides ``id``.
Join = tuple[str, str, tuple[str, ...]]


def _statement(dialect: Dialect, model: type[Any], key: str, selected: Sequence[str],
               order: bool, joins: Sequence[Join] = ()) -> Statement:
    """``SELECT key, selected… FROM model WHERE organisation_id = ? AND key IN ids``;
    the ids are one parameter whatever their number (an array on PostgreSQL, a JSON
    list on SQLite), so each shape has one text and one prepared statement. Each join
    adds ``id`` and its columns of the row the foreign key names, in the same
    organisation (NULLs where there is none)."""
    cache_key = (dialect.name, model, key, tuple(selected), order, tuple(joins))
    found = _STATEMENTS.get(cache_key)
    if found is not None:
        return found
    quote = dialect.identifier_preparer.quote
    table: Any = model.__table__
    columns = [table.c[key], *(getattr(model, name).property.columns[0] for name in selected)]
    shown = [f"t.{quote(column.name)}" for column in columns]
    joined = []
    for number, (foreign_key, relation, wanted) in enumerate(joins):
        target = ROWS_BY_ID[relation]
        target_table: Any = target.__table__
        alias = f"j{number}"
        targets = [target_table.c.id, *(getattr(target, name).property.columns[0]
                                        for name in wanted)]
        columns += targets
        shown += [f"{alias}.{quote(column.name)}" for column in targets]
        organisation = quote(target_table.c.organisation_id.name)
        joined.append(
            f" LEFT JOIN {quote(target_table.name)} {alias} ON {alias}.{quote('id')} = "
            f"t.{quote(getattr(model, foreign_key).property.columns[0].name)} AND "
            f"{alias}.{organisation} = t.{quote(table.c.organisation_id.name)}")
    where = f"t.{quote(table.c.organisation_id.name)}"
    key_column = f"t.{quote(columns[0].name)}"
    if dialect.name == "postgresql":
        ids = f"{key_column} = ANY($2::bigint[])"
        where = f"{where} = $1"
    else:
        ids = f"{key_column} IN (SELECT value FROM json_each(?))"
        where = f"{where} = ?"
    sql = (f"SELECT {', '.join(shown)} FROM {quote(table.name)} t{''.join(joined)} "
           f"WHERE {where} AND {ids}")
    if order:
        sql += f" ORDER BY t.{quote(table.c.id.name)}"
    processors = tuple(
        (index, process) for index, column in enumerate(columns)
        if (process := _processor(column, dialect)) is not None)
    found = _STATEMENTS[cache_key] = Statement(sql, processors)
    return found


async def _fetch(session: AsyncSession, model: type[Any], key: str, columns: Sequence[str],
                 order: bool, organisation_id: int, ids: Sequence[int],
                 joins: Sequence[Join] = ()) -> list[Row]:
    """Run on the driver's own connection, in the session's transaction: the ORM's and
    the Core's per-statement work is what a planned read exists to skip."""
    connection = await session.connection()
    sync = connection.sync_connection
    assert sync is not None
    statement = _statement(connection.dialect, model, key, columns, order, joins)
    driver: Any = (await connection.get_raw_connection()).driver_connection
    wanted = sorted(set(ids))
    parameters = ((organisation_id, wanted) if connection.dialect.name == "postgresql"
                  else (organisation_id, json.dumps(wanted)))
    announce = sync.dispatch.before_cursor_execute
    if announce:  # statement counters and loggers see these statements too
        announce(sync, None, statement.sql, parameters, None, False)
    if connection.dialect.name == "postgresql":
        raw = await driver.fetch(statement.sql, *parameters)
    else:
        raw = await driver.execute_fetchall(statement.sql, parameters)
    return [statement.decoded(row) for row in raw]


async def children(session: AsyncSession, relation: str, organisation_id: int,
                   parent_ids: Sequence[int], columns: Sequence[str],
                   joins: Sequence[Join] = ()) -> dict[int, list[Row]]:
    """Rows of a child relation (``batches.CHILDREN``) per parent id, oldest first;
    each row ends with the joined rows' ``id`` and columns, join by join."""
    model, parent = CHILDREN[relation]
    if not parent_ids:
        return {}
    grouped: dict[int, list[Row]] = defaultdict(list)
    for parent_id, *values in await _fetch(session, model, parent, columns, True,
                                           organisation_id, parent_ids, joins):
        grouped[parent_id].append(tuple(values))
    return grouped


async def by_id(session: AsyncSession, relation: str, organisation_id: int,
                ids: Sequence[int], columns: Sequence[str]) -> dict[int, Row]:
    """Rows of a relation loaded by id (``batches.ROWS_BY_ID``), in the organisation."""
    model = ROWS_BY_ID[relation]
    if not ids:
        return {}
    return {row_id: tuple(values) for row_id, *values in
            await _fetch(session, model, "id", columns, False, organisation_id, ids)}


async def currency_of(session: AsyncSession, organisation_id: int) -> str:
    """The currency the organisation keeps its books in."""
    currency: str | None = await session.scalar(
        select(Organisation.currency).where(Organisation.id == organisation_id))
    assert currency is not None, "an actor's organisation exists"
    return currency
