"""Bulk reads as plain tuples: a Core select run on the driver's own connection, each
value decoded by its column type's own result processor, none of SQLAlchemy's per-row
result handling (which costs more than the database for tens of thousands of rows)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Enum, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

Row = tuple[Any, ...]


def result_processor(column: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's own result processor; for an enum stored by value, the same
    mapping as one dictionary lookup (an unknown value still fails, as SQLAlchemy's)."""
    kind = column.type
    if isinstance(kind, Enum) and kind.enum_class is not None and not kind.native_enum:
        members: dict[Any, Any] = {None: None}
        for member in kind.enum_class:
            members[member.value] = member
        return members.__getitem__
    process: Callable[[Any], Any] | None = kind._cached_result_processor(dialect, None)
    return process


async def plain_rows(session: AsyncSession, query: Select[*tuple[Any, ...]]
                     ) -> list[Row]:
    """A Core select's rows as tuples, run on the driver's own connection in the
    session's transaction, each value decoded by its column type's result processor.
    For bulk reads (tens of thousands of grouped rows) whose cost is SQLAlchemy's
    per-row result handling, not the database's. The parameters are rendered into the
    text as literals, so only for queries of ids, numbers and validated strings."""
    connection = await session.connection()
    sync = connection.sync_connection
    assert sync is not None
    dialect = connection.dialect
    sql = str(query.compile(dialect=dialect, compile_kwargs={
        "literal_binds": True, "render_postcompile": True}))
    processors = [(index, process) for index, column in enumerate(query.selected_columns)
                  if (process := result_processor(column, dialect)) is not None]
    announce = sync.dispatch.before_cursor_execute
    if announce:  # statement counters and loggers see these statements too
        announce(sync, None, sql, (), None, False)
    driver: Any = (await connection.get_raw_connection()).driver_connection
    if dialect.name == "postgresql":
        raw = await driver.fetch(sql)
    else:
        raw = await driver.execute_fetchall(sql, ())
    if not processors or not raw:
        return [tuple(row) for row in raw]
    # Column by column: each processor mapped over its column, no Python loop per value.
    columns: list[Any] = list(zip(*raw, strict=True))
    for index, process in processors:
        columns[index] = map(process, columns[index])
    return list(zip(*columns, strict=True))
