"""Reads by projection: only the columns a planned query asks for, as plain tuples.

The planned read path (``graphql/planned``) reads each level of a query in one
statement without building ORM objects; these functions are its SQL. They use the same
relations, tenancy filters and orders as the batch reads behind the DataLoaders
(``domain.batches``), so both paths see the same rows in the same order.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, func, select, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.batches import CHILDREN, ROWS_BY_ID
from spm_api.domain.plain import Reader, result_processor
from spm_api.domain.reads import Listing
from spm_api.models import Organisation
from spm_api.models.columns import FixedDecimal, from_fixed
from spm_api.vocabulary import money

Row = tuple[Any, ...]


def _columns(model: type[Any], names: Sequence[str]) -> list[Any]:
    """The columns, amounts in their stored form (see ``Statement``)."""
    found = []
    for name in names:
        column = getattr(model, name)
        if isinstance(column.type, FixedDecimal):
            column = type_coerce(column, BigInteger)
        found.append(column)
    return found


#: The page statements last built, by what they are built from: the same statement
#: object again keeps SQLAlchemy's cache key for it (worked out once per object).
_PAGES: OrderedDict[Hashable, Any] = OrderedDict()
PAGES_KEPT = 256


async def page(session: AsyncSession, listing: Callable[[], Listing[Any]],
               columns: Sequence[str],
               offset: int, limit: int | None, counted: bool = False,
               built_from: Hashable = None) -> tuple[list[Row], int | None]:
    """A slice of the listing ``listing`` builds (its filter and order kept), as
    ``columns``; with
    ``counted``, also how many rows the whole listing has, in the same statement
    (``count(*) OVER ()``; None when the slice is empty past the first row: ask
    ``Listing.count`` then). ``built_from``, when given, is everything the listing's
    query is built from (organisation, filter, order): the statement is then kept, and
    the listing built only the first time."""
    key = None if built_from is None else (built_from, tuple(columns), offset, limit, counted)
    query = None if key is None else _PAGES.get(key)
    if query is None:
        built = listing().query
        model = built.column_descriptions[0]["entity"]
        selected = _columns(model, columns)
        if counted:
            selected.append(func.count().over())
        query = built.with_only_columns(
            *selected, maintain_column_froms=True).offset(offset).limit(limit)
        if key is not None:
            _PAGES[key] = query
            while len(_PAGES) > PAGES_KEPT:
                _PAGES.popitem(last=False)
    elif key is not None:
        _PAGES.move_to_end(key)
    # On the session's connection (its transaction), as Core: the columns need no ORM
    # result set-up, and the ORM's per-statement work is what a planned read skips.
    connection = await session.connection()
    rows = [tuple(row) for row in await connection.execute(query)]
    if not counted:
        return rows, None
    if not rows:
        return [], 0 if offset == 0 else None
    return [row[:-1] for row in rows], int(rows[0][-1])


@dataclass(frozen=True, slots=True)
class Statement:
    """One projection's SQL for one dialect, compiled once: its text and how each
    column's raw value becomes what SQLAlchemy would have given (the column types'
    own result processors: enums, UTC datetimes, JSON). Amounts stay in their stored
    form, scaled integers (``models.columns.from_fixed`` turns one into its decimal):
    the planned path writes them as text without a ``Decimal`` per value."""

    sql: str
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def decoded(self, row: Sequence[Any]) -> Sequence[Any]:
        if not self.processors:
            return row
        values = list(row)
        for index, process in self.processors:
            values[index] = process(values[index])
        return values


_STATEMENTS: dict[tuple[Any, ...], Statement] = {}

#: A row of another relation read with each row, by a foreign key: the key's column,
#: the relation (``batches.ROWS_BY_ID``) and the columns of it wanted besides ``id``.
Join = tuple[str, str, tuple[str, ...]]


#: The child rows read with each row in the same statement: the child model, its
#: column naming the row, the columns of it wanted and its own joins.
Below = tuple[type[Any], str, tuple[str, ...], tuple[Join, ...]]


def _statement(dialect: Dialect, model: type[Any], key: str, selected: Sequence[str],
               order: bool, joins: Sequence[Join] = (), below: Below | None = None,
               latest: bool = False) -> Statement:
    """``SELECT key, selected… FROM model WHERE organisation_id = ? AND key IN ids``;
    the ids are one parameter whatever their number (an array on PostgreSQL, a JSON
    list on SQLite), so each shape has one text and one prepared statement. Each join
    adds ``id`` and its columns of the row the foreign key names, in the same
    organisation (NULLs where there is none). With ``latest``, only the newest row
    (highest id) of each key; with ``below``, each row's children follow it (left
    joined, one result row per child, their joins after them)."""
    cache_key = (dialect.name, model, key, tuple(selected), order, tuple(joins), below,
                 latest)
    found = _STATEMENTS.get(cache_key)
    if found is not None:
        return found
    quote = dialect.identifier_preparer.quote
    table: Any = model.__table__
    organisation = quote(table.c.organisation_id.name)
    columns = [table.c[key], *(getattr(model, name).property.columns[0] for name in selected)]
    shown = [f"t.{quote(column.name)}" for column in columns]
    joined: list[str] = []

    def join(source: type[Any], alias: str, number: int, foreign_key: str, relation: str,
             wanted: tuple[str, ...]) -> None:
        target = ROWS_BY_ID[relation]
        target_table: Any = target.__table__
        targets = [target_table.c.id, *(getattr(target, name).property.columns[0]
                                        for name in wanted)]
        columns.extend(targets)
        shown.extend(f"j{number}.{quote(column.name)}" for column in targets)
        joined.append(
            f" LEFT JOIN {quote(target_table.name)} j{number} ON j{number}.{quote('id')} = "
            f"{alias}.{quote(getattr(source, foreign_key).property.columns[0].name)} AND "
            f"j{number}.{quote(target_table.c.organisation_id.name)} = t.{organisation}")

    for number, (foreign_key, relation, wanted) in enumerate(joins):
        join(model, "t", number, foreign_key, relation, wanted)
    orders = [f"t.{quote(table.c.id.name)}"]
    if below is not None:
        child, parent_key, child_columns, child_joins = below
        child_table: Any = child.__table__
        wanted_columns = [getattr(child, name).property.columns[0] for name in child_columns]
        columns.extend(wanted_columns)
        shown.extend(f"c.{quote(column.name)}" for column in wanted_columns)
        joined.append(
            f" LEFT JOIN {quote(child_table.name)} c ON c.{quote(child_table.c[parent_key].name)}"
            f" = t.{quote(table.c.id.name)} AND c.{quote(child_table.c.organisation_id.name)}"
            f" = t.{organisation}")
        for number, (foreign_key, relation, wanted) in enumerate(child_joins, len(joins)):
            join(child, "c", number, foreign_key, relation, wanted)
        orders.append(f"c.{quote(child_table.c.id.name)}")
    key_column = f"t.{quote(table.c[key].name)}"
    if dialect.name == "postgresql":
        ids = f"{key_column} = ANY($2::bigint[])"
        where = f"t.{organisation} = $1"
    else:
        ids = f"{key_column} IN (SELECT value FROM json_each(?))"
        where = f"t.{organisation} = ?"
    if latest:
        where += (f" AND t.{quote(table.c.id.name)} = (SELECT max(l.{quote(table.c.id.name)})"
                  f" FROM {quote(table.name)} l WHERE l.{quote(table.c[key].name)} = "
                  f"{key_column} AND l.{organisation} = t.{organisation})")
    sql = (f"SELECT {', '.join(shown)} FROM {quote(table.name)} t{''.join(joined)} "
           f"WHERE {where} AND {ids}")
    if order:
        sql += f" ORDER BY {', '.join(orders)}"
    processors = tuple(
        (index, process) for index, column in enumerate(columns)
        if (process := _processor(column, dialect)) is not None)
    found = _STATEMENTS[cache_key] = Statement(sql, processors)
    return found


def _processor(column: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's own result processor, but amounts kept scaled (see
    ``Statement``)."""
    if isinstance(column.type, FixedDecimal):
        return None
    return result_processor(column, dialect)


async def fetch(reader: Reader, model: type[Any], key: str, columns: Sequence[str],
                order: bool, organisation_id: int, ids: Sequence[int],
                joins: Sequence[Join] = (), below: Below | None = None,
                latest: bool = False) -> list[Sequence[Any]]:
    """Rows of ``model`` whose ``key`` is one of ``ids``, in the organisation: ``key``
    first, then ``columns``, then each join's ``id`` and columns (see ``_statement``
    for ``below`` and ``latest``), decoded."""
    statement = _statement(reader.dialect, model, key, columns, order, joins, below, latest)
    wanted = sorted(set(ids))
    raw = await reader.fetch(statement.sql, (organisation_id, wanted) if reader.postgresql
                             else (organisation_id, json.dumps(wanted)))
    if not statement.processors:
        return raw
    decoded = statement.decoded
    return [decoded(row) for row in raw]


async def children(reader: Reader, relation: str, organisation_id: int,
                   parent_ids: Sequence[int], columns: Sequence[str],
                   joins: Sequence[Join] = ()) -> list[Sequence[Any]]:
    """Rows of a child relation (``batches.CHILDREN``) of the parents, oldest first:
    each starts with its parent's id and ends with the joined rows' ``id`` and
    columns, join by join."""
    model, parent = CHILDREN[relation]
    if not parent_ids:
        return []
    return await fetch(reader, model, parent, columns, True, organisation_id, parent_ids,
                       joins)


async def latest_with_children(reader: Reader, relation: str, organisation_id: int,
                               parent_ids: Sequence[int], columns: Sequence[str],
                               child_relation: str, child_columns: Sequence[str],
                               child_joins: Sequence[Join] = ()) -> list[Sequence[Any]]:
    """The newest row of a child relation of each parent (an approval round of a
    service) with its own children (the round's votes) in the same statement: a row
    per grandchild (or one with NULLs where there is none), the parent's id first,
    then ``columns``, ``child_columns`` and the grandchild's joins."""
    model, parent = CHILDREN[relation]
    child, key = CHILDREN[child_relation]
    if not parent_ids:
        return []
    return await fetch(reader, model, parent, columns, True, organisation_id, parent_ids,
                       below=(child, key, tuple(child_columns), tuple(child_joins)),
                       latest=True)


async def by_id(reader: Reader, relation: str, organisation_id: int,
                ids: Sequence[int], columns: Sequence[str]) -> list[Sequence[Any]]:
    """Rows of a relation loaded by id (``batches.ROWS_BY_ID``), in the organisation:
    ``id`` first, then ``columns``."""
    if not ids:
        return []
    return await fetch(reader, ROWS_BY_ID[relation], "id", columns, False, organisation_id,
                       ids)


def decimal(stored: int | None) -> Any:
    """A stored amount as the exact decimal the domain computes with."""
    return None if stored is None else from_fixed(stored)


@lru_cache(maxsize=4096)  # the same few amounts recur across rows and requests
def amount_text(stored: int, currency: str) -> str:
    """A stored amount as the API writes it: rounded to the currency's minor unit."""
    return str(money.rounded(from_fixed(stored), currency))


async def currency_of(session: AsyncSession, organisation_id: int) -> str:
    """The currency the organisation keeps its books in."""
    currency: str | None = await session.scalar(
        select(Organisation.currency).where(Organisation.id == organisation_id))
    assert currency is not None, "an actor's organisation exists"
    return currency
