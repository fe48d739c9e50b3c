"""SQLite reads on the event loop's own thread, handed to a worker thread when they run long.

aiosqlite runs every driver call in its connection's thread: a cursor, the statement, the
fetch and the close are four hand-offs of about 0.1 ms each, for a read that costs SQLite a
few microseconds. The reader engine uses this driver instead: each statement runs here, at
once, with its rows fetched, under a budget (INLINE_BUDGET). A statement still running when
the budget is spent, or one that would wait for a lock (the busy timeout is 0 here), is
stopped and run again in a worker thread with the full busy timeout, so a report's long
scan never stalls the bot. Run again inside the same read transaction, a SELECT gives the
same rows; the connections refuse writes (`PRAGMA query_only`).

A transaction begins (deferred) with its first statement and ends with SQLAlchemy's
rollback. The driver plugs into SQLAlchemy's aiosqlite dialect as its DBAPI module
(`create_async_engine(..., module=InlineSqlite())`): SQL, types and events stay the
aiosqlite dialect's.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
from collections import deque
from collections.abc import Callable, Generator, Sequence
from contextlib import suppress
from time import perf_counter
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.engine import AdaptedConnection
from sqlalchemy.util.concurrency import await_

INLINE_BUDGET = 0.002  # seconds a statement may hold the event loop before it moves out
CHECK_EVERY = 1000  # SQLite virtual machine steps between looks at the clock
MOVED_OUT = (sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_BUSY)  # what sends a statement out

Work = Callable[[sqlite3.Cursor], object]  # runs one statement on a fresh cursor
Outcome = tuple[Any, list[Any], int, int | None]  # description, rows, rowcount, lastrowid


class Ready:
    """An awaitable that is done at once."""

    def __await__(self) -> Generator[None, None, None]:
        return
        yield


READY = Ready()


class InlineConnection(AdaptedConnection):
    """A DBAPI connection over one sqlite3 connection, statements run as described above."""

    __slots__ = ("_budget", "_busy_ms", "_deadline", "_sqlite")

    def __init__(self, connection: sqlite3.Connection, busy_ms: int) -> None:
        self._connection = cast(Any, connection)  # what SQLAlchemy hands out as the driver's
        self._sqlite = connection
        self._busy_ms = busy_ms
        self._budget = INLINE_BUDGET
        self._deadline = 0.0
        connection.execute("PRAGMA busy_timeout=0")
        connection.execute("PRAGMA query_only=ON")
        connection.set_progress_handler(self._over_budget, CHECK_EVERY)

    def _over_budget(self) -> bool:
        return perf_counter() > self._deadline

    def unhurried(self) -> None:
        """Until this transaction ends, run its statements here to their end however long
        they take: for a batch command with nothing else on its event loop (the program
        simulator's pages of receipts), to which moving out only adds the budget's work
        done twice and a thread's hand-offs."""
        self._budget = math.inf

    def run(self, work: Work) -> Outcome:
        """One statement's outcome: here if it is quick, else from a worker thread."""
        await_(READY)  # SQLAlchemy's asyncio layer insists that each statement awaits
        outcome = self._quick(work)
        return outcome if outcome is not None else await_(self._moved_out(work))

    async def fetch(self, sql: str, parameters: Sequence[Any]) -> list[Any]:
        """The rows of one statement for a caller on the event loop, not through SQLAlchemy
        (`storage.quick_reads`): run as `run` runs it."""

        def work(cursor: sqlite3.Cursor) -> object:
            return cursor.execute(sql, parameters)

        outcome = self._quick(work)
        return (outcome if outcome is not None else await self._moved_out(work))[1]

    def _quick(self, work: Work) -> Outcome | None:
        """The outcome if the statement ran within the budget here, else None."""
        self._deadline = perf_counter() + self._budget
        try:
            return self._outcome(work)
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF not in MOVED_OUT:
                raise
        return None

    async def _moved_out(self, work: Work) -> Outcome:
        """The statement again in a worker thread; cancelled, it is stopped and waited for."""
        future = asyncio.get_running_loop().run_in_executor(None, self._unhurried, work)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            while not future.done():  # stop it, and wait: closing it under the worker crashes
                self._sqlite.interrupt()  # (a no-op until the statement has started)
                with suppress(asyncio.CancelledError):
                    await asyncio.wait([future], timeout=0.01)
            future.exception()  # "interrupted", as asked
            raise

    def _outcome(self, work: Work) -> Outcome:
        if not self._sqlite.in_transaction:  # deferred: no lock is taken until it reads
            self._sqlite.execute("BEGIN")
        cursor = self._sqlite.cursor()
        try:
            work(cursor)
            rows: list[Any] = cursor.fetchall() if cursor.description else []
            return cursor.description, rows, cursor.rowcount, cursor.lastrowid
        finally:
            cursor.close()

    def _unhurried(self, work: Work) -> Outcome:
        """In a worker thread: the statement with no budget and the full busy timeout."""
        connection = self._sqlite
        connection.set_progress_handler(None, 0)
        connection.execute(f"PRAGMA busy_timeout={self._busy_ms}")
        try:
            return self._outcome(work)
        finally:
            connection.execute("PRAGMA busy_timeout=0")
            connection.set_progress_handler(self._over_budget, CHECK_EVERY)

    @property
    def isolation_level(self) -> str | None:
        """The sqlite3 module's own transaction handling (None: off, as here)."""
        return self._sqlite.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._sqlite.isolation_level = value

    def cursor(self, server_side: bool = False) -> InlineCursor:
        """A cursor whose rows are fetched as each statement runs."""
        return InlineCursor(self)

    def execute(self, operation: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        """A cursor that has run `operation`."""
        cursor = self.cursor()
        cursor.execute(operation, parameters)
        return cursor

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        """Register an SQL function (SQLAlchemy's regexp and floor)."""
        self._sqlite.create_function(*args, **kwargs)

    def commit(self) -> None:
        """End the transaction (nothing to write: the reader only reads)."""
        self._budget = INLINE_BUDGET
        self._sqlite.commit()

    def rollback(self) -> None:
        """End the read transaction."""
        self._budget = INLINE_BUDGET
        self._sqlite.rollback()

    def close(self) -> None:
        """Close the sqlite3 connection."""
        self._sqlite.close()

    def terminate(self) -> None:
        """Close, as SQLAlchemy does with a connection it gives up."""
        self._sqlite.close()


class InlineCursor:
    """A DBAPI cursor over `InlineConnection.run`: rows kept here once fetched."""

    __slots__ = ("_connection", "_rows", "arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._rows: deque[Any] = deque()
        self.arraysize = 1
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    def _keep(self, outcome: Outcome) -> None:
        self.description, rows, self.rowcount, self.lastrowid = outcome
        self._rows = deque(rows)

    def execute(self, operation: str, parameters: Sequence[Any] = ()) -> None:
        """Run one statement and fetch its rows."""
        self._keep(self._connection.run(lambda cursor: cursor.execute(operation, parameters)))

    def executemany(self, operation: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        self._keep(self._connection.run(lambda cursor: cursor.executemany(operation, rows)))

    def fetchone(self) -> Any:
        """The next row, or None."""
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to `size` (default `arraysize`) more rows."""
        rows = self._rows
        return [rows.popleft() for _ in range(min(size or self.arraysize, len(rows)))]

    def fetchall(self) -> list[Any]:
        """Every row left."""
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def setinputsizes(self, *sizes: Any) -> None:
        """Ignored, as sqlite3 does."""

    def close(self) -> None:
        """Drop the rows left."""
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        """Nothing to release: SQLAlchemy's asyncio results call this on every cursor."""


class InlineSqlite(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module handed to SQLAlchemy's aiosqlite dialect for the reader engine."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *args: Any, **kwargs: Any) -> InlineConnection:  # type: ignore[override]
        """A read-only connection (the pool runs this on the event loop's thread)."""
        busy_ms = round(float(kwargs.pop("timeout", 5.0)) * 1000)
        kwargs.update(timeout=0, check_same_thread=False, isolation_level=None)
        connection = sqlite3.connect(*args, **kwargs)
        try:
            return InlineConnection(connection, busy_ms)
        except BaseException:
            connection.close()
            raise
