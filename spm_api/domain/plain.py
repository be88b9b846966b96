"""Bulk reads as plain tuples: a Core select run on the driver's own connection, each
value decoded by its column type's own result processor, none of SQLAlchemy's per-row
result handling (which costs more than the database for tens of thousands of rows)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Reader:
    """The driver's connection under a session, in its transaction, looked up once for
    the statements of one request: the ORM's and the Core's per-statement work is what
    these reads exist to skip."""

    driver: Any
    dialect: Dialect
    sync: Any  # the session's ``Connection``: its events see these statements too

    @property
    def postgresql(self) -> bool:
        return self.dialect.name == "postgresql"

    async def fetch(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        """The driver's raw rows of ``sql`` (positional ``parameters``), announced to
        the session's statement listeners like any statement: its start, and its end
        (with the exception in the cursor's place when it failed), so traces time it."""
        dispatch = self.sync.dispatch
        announce = dispatch.before_cursor_execute
        if announce:  # statement counters, loggers and traces see these statements too
            announce(self.sync, None, sql, parameters, None, False)
        finished = dispatch.after_cursor_execute
        try:
            if self.postgresql:
                rows: list[Any] = await self.driver.fetch(sql, *parameters)
            else:
                rows = await self.driver.execute_fetchall(sql, parameters)
        except BaseException as error:
            if finished:  # no cursor here: a failure is announced in its place
                finished(self.sync, error, sql, parameters, None, False)
            raise
        if finished:
            finished(self.sync, None, sql, parameters, None, False)
        return rows


async def reader(session: AsyncSession) -> Reader:
    connection = await session.connection()
    assert connection.sync_connection is not None
    raw = await connection.get_raw_connection()
    return Reader(raw.driver_connection, connection.dialect, connection.sync_connection)


async def plain_rows(session: AsyncSession, query: Select[*tuple[Any, ...]]
                     ) -> list[Row]:
    """A Core select's rows as tuples, run on the driver's own connection in the
    session's transaction, each value decoded by its column type's result processor.
    For bulk reads (tens of thousands of grouped rows) whose cost is SQLAlchemy's
    per-row result handling, not the database's. The parameters are rendered into the
    text as literals, so only for queries of ids, numbers and validated strings."""
    on = await reader(session)
    sql = str(query.compile(dialect=on.dialect, compile_kwargs={
        "literal_binds": True, "render_postcompile": True}))
    processors = [(index, process) for index, column in enumerate(query.selected_columns)
                  if (process := result_processor(column, on.dialect)) is not None]
    raw = await on.fetch(sql)
    if not processors or not raw:
        return [tuple(row) for row in raw]
    # Column by column: each processor mapped over its column, no Python loop per value.
    columns: list[Any] = list(zip(*raw, strict=True))
    for index, process in processors:
        columns[index] = map(process, columns[index])
    return list(zip(*columns, strict=True))
