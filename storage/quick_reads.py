"""The reads made on every update and balance screen, run on the driver's own connection.

SQLAlchemy's execution layer (execution context, parameter and cursor wrapping, result
objects, the greenlet hop of its asyncio layer) cost a read unit of work several times what
the database took: on SQLite about 150 µs of CPU around a statement SQLite ran in 20. A
`QuickRead` is one SELECT compiled once per dialect, with SQLAlchemy's own bind and result
processors for its types, sent straight to the driver when the unit of work allows it: a
read on SQLite's reader (`storage.inline_sqlite`) or on a PostgreSQL connection in autocommit
(asyncpg, its prepared-statement cache). Anywhere else (a write, a PostgreSQL snapshot) it
runs through SQLAlchemy as any statement, so it sees the transaction it is in.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Select
from sqlalchemy.engine import Dialect

from storage.aio import AsyncConnection
from storage.database import INLINE_READS

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class Compiled:
    """A statement's SQL for one dialect, and how its parameters and rows are converted."""

    sql: str
    binds: tuple[tuple[str, Processor | None], ...]  # positional: name, processor
    defaults: Mapping[str, Any]  # values the statement binds itself (literals)
    results: tuple[tuple[int, Processor], ...]  # column index, processor (where any)
    row: Callable[..., Any]  # a named tuple class of the columns

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        """The positional parameters for `values` (bind parameter name -> value)."""
        merged = {**self.defaults, **values}
        return [
            merged[name] if process is None else process(merged[name])
            for name, process in self.binds
        ]

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        """The driver's rows as named tuples of the values SQLAlchemy would give."""
        results, make = self.results, self.row
        if not results:
            return [make(*values) for values in raw]
        converted = []
        for values in raw:
            row = list(values)
            for index, process in results:
                row[index] = process(row[index])
            converted.append(make(*row))
        return converted


def compile_for(statement: Select[Any] | CompoundSelect[Any], dialect: Dialect) -> Compiled:
    """`statement` compiled for `dialect` with its processors (positional parameters only)."""
    compiled = statement.compile(dialect=dialect)
    names = compiled.positiontup
    assert names is not None, f"{dialect.name} binds parameters by position"
    binds = compiled.binds
    assert not any(bind.expanding for bind in binds.values()), "IN lists are not supported"
    columns = list(statement.selected_columns)
    results = (
        (i, column.type.dialect_impl(dialect).result_processor(dialect, None))
        for i, column in enumerate(columns)
    )
    return Compiled(
        sql=compiled.string,
        binds=tuple(
            (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
        ),
        defaults={name: bind.value for name, bind in binds.items() if not bind.required},
        results=tuple((i, process) for i, process in results if process is not None),
        row=namedtuple("Row", [column.key for column in columns], rename=True),  # type: ignore[misc]
    )


class QuickRead:
    """One SELECT run on the driver where the unit of work allows it (see the module)."""

    def __init__(self, statement: Select[Any] | CompoundSelect[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, Compiled] = {}  # by dialect name

    async def all(self, conn: AsyncConnection, values: Mapping[str, Any]) -> list[Any]:
        """Every row, as named tuples (or SQLAlchemy rows, where it runs through SQLAlchemy)."""
        sync = conn.sync_connection
        dbapi = sync.connection.dbapi_connection if sync is not None else None
        if sync is None or dbapi is None:
            return list(await conn.execute(self.statement, values))
        options = sync.get_execution_options()
        if options.get(INLINE_READS):  # an `InlineConnection`: its transaction ends with `end`
            compiled = self._for(conn.dialect)
            return compiled.rows(await dbapi.fetch(compiled.sql, compiled.parameters(values)))
        if options.get("isolation_level") == "AUTOCOMMIT":
            compiled = self._for(conn.dialect)
            try:
                raw = await dbapi.driver_connection.fetch(
                    compiled.sql, *compiled.parameters(values)
                )
            except BaseException as error:  # the connection's state is unknown: not reused
                await conn.invalidate(error if isinstance(error, Exception) else None)
                raise
            return compiled.rows(raw)
        return list(await conn.execute(self.statement, values))

    async def first(self, conn: AsyncConnection, values: Mapping[str, Any]) -> Any | None:
        """The first row, or None."""
        rows = await self.all(conn, values)
        return rows[0] if rows else None

    def _for(self, dialect: Dialect) -> Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = compile_for(self.statement, dialect)
        return compiled
