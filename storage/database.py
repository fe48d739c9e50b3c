"""Engines for SQLite (embedded default) and PostgreSQL, chosen by the database URL.

SQLite: WAL, a busy timeout, foreign keys on, and write transactions that take the write
lock up front (`BEGIN IMMEDIATE`, SQLAlchemy's documented pysqlite recipe), so a
read-then-write transaction never fails with "database is locked" half-way. Reads go
through a second engine that begins deferred transactions, so they do not queue behind
writers. Writers of one process wait their turn in a FIFO queue instead of SQLite's busy
handler, which is unfair: under load one writer could wait seconds while others won. The
busy timeout bounds a writer's whole wait (queue and lock together): each waiting its own
full timeout after the ones queued before it, three writers behind a lock held elsewhere
once waited 99 s where 30 s was promised.

PostgreSQL: one engine and pool; a read-only unit of work's connection runs in autocommit
(no BEGIN and ROLLBACK round trips, two of a balance read's three), set on the connection
when it leaves the pool (an engine-wide option would be an event listener, which sends every
statement of the engine through SQLAlchemy's event dispatch). Under READ COMMITTED each
statement sees its own snapshot inside a transaction too, so a read sees nothing different.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from storage.aio import AsyncConnection, AsyncEngine, create_async_engine

DEFAULT_URL = "sqlite+aiosqlite:///loyalty.db"
SQLITE_BUSY_TIMEOUT = 30.0  # seconds a writer waits for the write lock, in all
SCHEMES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}  # the usual spellings, async drivers
EXAMPLES = "sqlite+aiosqlite:///loyalty.db or postgresql+asyncpg://user:password@host:5432/db"


def normalise_url(url: str) -> str:
    """A database URL with the async driver this code uses; ValueError saying what to write.

    `postgresql://`, `postgres://` and `sqlite:///` are accepted as the async drivers'.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise ValueError(f"not a database URL; write {EXAMPLES}")
    driver = SCHEMES.get(scheme.lower())
    if driver is None:
        raise ValueError(f"{scheme}:// is not supported; write {EXAMPLES}")
    if driver.startswith("sqlite") and rest.split("?")[0] in ("", "/", "/:memory:"):
        raise ValueError(
            "an in-memory SQLite database is lost at exit; name a file, e.g. "
            "sqlite+aiosqlite:///loyalty.db"
        )
    return f"{driver}://{rest}"


def is_sqlite(url: str) -> bool:
    """Whether a database URL names SQLite."""
    return url.startswith("sqlite")


def _sqlite_writer(url: str, busy_timeout: float, **options: Any) -> AsyncEngine:
    """The engine of use cases: aiosqlite, `BEGIN IMMEDIATE`, the busy timeout per `begin`."""
    engine = create_async_engine(
        url, connect_args={"timeout": busy_timeout}, pool_reset_on_return=None, **options
    )
    full_wait = round(busy_timeout * 1000)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we BEGIN ourselves
        try:
            cursor = dbapi_connection.cursor()
            for pragma in (
                "journal_mode=WAL",
                f"busy_timeout={full_wait}",
                "foreign_keys=ON",
                "synchronous=NORMAL",
            ):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()
        except BaseException:  # e.g. WAL in a read-only directory: the pool never gets it
            dbapi_connection.close()
            raise
        record.info[BUSY_WAIT] = full_wait

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A writer that queued first may wait only what is left of its busy timeout.
        wait = connection.info.pop(LOCK_WAIT, full_wait)
        if connection.info.get(BUSY_WAIT) != wait:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={wait}")
            connection.info[BUSY_WAIT] = wait
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _sqlite_reader(url: str, busy_timeout: float, **options: Any) -> AsyncEngine:
    """The engine of read-only units of work: statements on the event loop's thread while
    they are quick, each transaction begun by its first statement (`storage.inline_sqlite`)."""
    from storage.inline_sqlite import InlineSqlite  # SQLite's driver: imported on SQLite only

    return create_async_engine(
        url,
        module=InlineSqlite(),
        connect_args={"timeout": busy_timeout},
        execution_options={INLINE_READS: True},
        **options,
    )


BUSY_WAIT = "loyalty_busy_ms"  # the connection's busy timeout now (connection.info)
LOCK_WAIT = "loyalty_lock_wait_ms"  # the wait wanted by the next BEGIN on it
INLINE_READS = "loyalty_inline_reads"  # execution option: the connection is SQLite's reader's
KEEP_IDLE = 5  # connections kept per engine between units of work
POOL_TIMEOUT = 30.0  # seconds a unit of work waits for a PostgreSQL connection (as the pool did)
PG_TURNS = 8  # PostgreSQL units of work at once, and connections each engine keeps idle: at
# most 3 x 8 checked out of the pool's 30, the rest for the few direct connections

# A unit of work's connection is kept for the next one (`Database.end`), up to KEEP_IDLE
# per engine: taking it back from the pool and wrapping it again cost a read more than
# its SQL did. Connections also go back to the writers' pool without the pool's extra
# ROLLBACK round trip: every unit of work ends its own transaction, and closing a
# connection rolls back what is left open.


class UnwritableDatabase(Exception):
    """The SQLite file or its directory cannot be written; the message names which."""


class Database:
    """The engines of one database: `writer` for use cases, `reader` for read-only queries.

    On SQLite a writer waits at most `busy_timeout` seconds for the write lock in all: its
    turn in this process's queue and SQLite's busy wait together.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        busy_timeout: float = SQLITE_BUSY_TIMEOUT,
        **engine_options: Any,
    ) -> None:
        self.url = url
        self.busy_timeout = busy_timeout
        self.writer_queue: asyncio.Lock | None = None
        if is_sqlite(url):
            self.writer = _sqlite_writer(url, busy_timeout, **engine_options)
            self.reader = _sqlite_reader(url, busy_timeout, **engine_options)
            self.writer_queue = asyncio.Lock()
        else:
            options = {
                "pool_size": 10,
                "max_overflow": 20,
                "pool_reset_on_return": None,
                **engine_options,
            }
            self.writer = self.reader = create_async_engine(url, **options)
        self._idle: dict[bool, list[AsyncConnection]] = {True: [], False: []}  # by `write`
        self._attached: dict[AsyncConnection, dict[str, Any]] = {}  # see `attached`
        pooled = not isinstance(self.writer.pool, NullPool)  # NullPool: nothing kept, as asked
        self._keep = dict.fromkeys(self._idle, KEEP_IDLE if pooled else 0)
        self.turns: asyncio.Semaphore | None = None  # PostgreSQL: units of work at once
        if self.writer_queue is None and pooled:
            self.turns = asyncio.Semaphore(PG_TURNS)
            self._keep = dict.fromkeys(self._idle, PG_TURNS)

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.writer.dialect.name

    async def begin(self, write: bool, snapshot: bool = False) -> AsyncConnection:
        """A connection in a new transaction; give it back with `end`. A read with `snapshot`
        reads one snapshot throughout (on PostgreSQL a transaction, which the autocommit
        reads are not; SQLite's reader always does): for `SET TRANSACTION SNAPSHOT`.

        On PostgreSQL a unit of work first waits for one of PG_TURNS turns, and each turn's
        connection is kept for the next (so SQLAlchemy's pool never makes anyone wait): with
        a burst of updates, 30 connections taken from and given back to the pool in turn
        cost a read a third more CPU than 8 kept. sqlalchemy.exc.TimeoutError after
        POOL_TIMEOUT.

        A reader's transaction begins with its first statement (SQLAlchemy's autobegin): an
        explicit begin cost a read a fifth of its time, and begins nothing on either
        database (SQLite's reader begins at its first statement, PostgreSQL's reads in
        autocommit). On SQLite a writer first waits its turn in the queue, then for the
        write lock, both within the busy timeout; if it is not granted in time,
        OperationalError "database is locked" (and nothing is left checked out or queued).
        """
        turns = self.turns
        if turns is None:
            return await self._begin(write, snapshot)
        if turns.locked():
            try:
                async with asyncio.timeout(POOL_TIMEOUT):
                    await turns.acquire()
            except TimeoutError:
                raise PoolTimeout(
                    f"no database connection free within {POOL_TIMEOUT:g} s"
                ) from None
        else:
            await turns.acquire()
        try:
            return await self._begin(write, snapshot)
        except BaseException:
            turns.release()
            raise

    async def _begin(self, write: bool, snapshot: bool) -> AsyncConnection:
        if not write and not (snapshot and self.reader is self.writer):
            idle = self._idle[False]
            return idle.pop() if idle else await self._reading()
        queue = self.writer_queue if write else None
        if queue is None:
            return await self._connected(self.writer, None)
        deadline = asyncio.get_running_loop().time() + self.busy_timeout
        try:
            async with asyncio.timeout_at(deadline):
                await queue.acquire()
        except TimeoutError:
            raise self._locked() from None
        try:
            return await self._connected(self.writer, deadline)
        except BaseException:
            queue.release()
            raise

    async def end(self, conn: AsyncConnection, write: bool, snapshot: bool = False) -> None:
        """Give back a connection from `begin`, its transaction ended (else it is closed, which
        rolls back what is open); the next writer's turn. A reader's transaction begun on
        SQLite's driver alone (`storage.quick_reads`) ends here."""
        try:
            idle = self._idle[write or (snapshot and self.reader is self.writer)]  # as `_begin`
            if conn.invalidated or conn.in_transaction() or len(idle) >= self._keep[write]:
                self._attached.pop(conn, None)
                await conn.close()
            else:
                if not write and self.writer_queue is not None:
                    ended = conn.sync_connection.connection.dbapi_connection
                    ended.rollback()  # type: ignore[union-attr]
                idle.append(conn)
        finally:
            if write and self.writer_queue is not None:
                self.writer_queue.release()
            if self.turns is not None:
                self.turns.release()

    def attached(self, conn: AsyncConnection) -> dict[str, Any]:
        """What callers keep with a connection from `begin` for as long as it is open (the
        unit of work's repositories): empty at first."""
        return self._attached.setdefault(conn, {})

    async def _reading(self) -> AsyncConnection:
        """A new connection for read-only units of work (autocommit on PostgreSQL)."""
        conn = await self.reader.connect()
        if self.reader is self.writer:
            try:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            except BaseException:
                await conn.close()
                raise
        return conn

    async def _connected(self, engine: AsyncEngine, deadline: float | None) -> AsyncConnection:
        """A connection of `engine` with its transaction begun, or none left checked out."""
        idle = self._idle[True]
        conn = idle.pop() if idle else await engine.connect()
        try:
            if deadline is not None:
                left = deadline - asyncio.get_running_loop().time()
                conn.info[LOCK_WAIT] = max(1, round(left * 1000))
            await conn.begin()
        except BaseException as error:
            await conn.close()
            if (
                deadline is not None
                and isinstance(error, OperationalError)
                and ("database is locked" in str(error.orig))
            ):
                raise self._locked() from error
            raise
        return conn

    def _locked(self) -> OperationalError:
        """SQLite's "database is locked", saying how long this writer waited in all."""
        import sqlite3  # imported on SQLite only

        reason = sqlite3.OperationalError(
            f"database is locked: no write lock within {self.busy_timeout:g} s (another "
            "connection or process holds it)"
        )
        return OperationalError("BEGIN IMMEDIATE", None, reason)

    async def check_writable(self) -> None:
        """SQLite: write once (rolled back), so a read-only file or directory is refused at
        start (UnwritableDatabase naming it) rather than at the first write.

        Taking the write lock is not enough: a read-only file in WAL mode grants it.
        """
        if self.writer_queue is None:
            return
        folder = sqlite_path(self.url).parent
        if not folder.is_dir():
            raise UnwritableDatabase(f"the directory {folder} of the SQLite file does not exist")
        try:
            conn = await self.begin(write=True)
            try:
                await conn.exec_driver_sql("CREATE TABLE loyalty_write_probe (x INTEGER)")
                await conn.rollback()
            finally:
                await self.end(conn, write=True)
        except DBAPIError as error:
            reason = unwritable(self.url, error)
            if reason is None:
                raise
            raise UnwritableDatabase(reason) from error

    async def dispose(self) -> None:
        """Close every pooled connection."""
        self._attached.clear()
        for idle in self._idle.values():
            while idle:
                await idle.pop().close()
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def sqlite_path(url: str) -> Path:
    """The file an SQLite URL names (relative to the working directory if relative)."""
    return Path(make_url(url).database or "").absolute()


def unwritable(url: str, error: DBAPIError) -> str | None:
    """What stops writing the SQLite file of `url`, if `error` says it cannot be written."""
    code = getattr(error.orig, "sqlite_errorname", "")
    if not code.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
        return None
    path = sqlite_path(url)
    if code.startswith("SQLITE_READONLY") or path.exists():
        return (
            f"cannot write the SQLite file {path}: make it and its directory writable "
            f"for the bot's user (SQLite keeps {path.name}-wal and -shm beside it)"
        )
    return f"cannot create the SQLite file {path}: the directory {path.parent} is not writable"
