"""The read path: SQLite reads run on the event loop's thread unless they run long or meet a
lock (then in a worker thread, same rows); the reader writes nothing; a unit of work's
connection is kept for the next one on both databases."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from storage.database import Database
from storage.tables import metadata
from storage.uow import SqlUnitOfWork

COUNT_TO = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) "


def with_thread_id(database: Database) -> Database:
    """`database`, whose readers can tell which thread runs their SQL (thread_id())."""

    @event.listens_for(database.reader.sync_engine, "connect")
    def _thread_id(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.create_function("thread_id", 0, threading.get_ident)

    return database


@pytest.fixture
async def sqlite_db(tmp_path) -> AsyncIterator[Database]:
    """An SQLite database with the schema; its readers have thread_id()."""
    database = with_thread_id(Database(f"sqlite+aiosqlite:///{tmp_path}/reads.db"))
    async with database.writer.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield database
    await database.dispose()


async def read(database: Database, sql: str) -> tuple[int, int]:
    """One row of two integers, read in a read-only unit of work."""
    async with SqlUnitOfWork(database, read_only=True) as uow:
        row = (await uow.members.conn.execute(text(sql))).one()
    return int(row[0]), int(row[1])


async def test_a_short_read_runs_on_the_event_loop_thread(sqlite_db):
    assert await read(sqlite_db, "SELECT 7, thread_id()") == (7, threading.get_ident())


async def test_a_long_read_moves_to_a_worker_thread_and_the_loop_keeps_going(sqlite_db):
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        total, thread = await read(
            sqlite_db, COUNT_TO.format(n=3_000_000) + "SELECT max(x), thread_id() FROM c"
        )
        during = ticks
    finally:
        ticker.cancel()
    assert total == 3_000_000
    assert thread != threading.get_ident()
    assert during > 0  # run inline, the read would have held the loop until its end


async def test_a_read_that_meets_a_lock_waits_for_it_in_a_worker_thread(tmp_path):
    path = tmp_path / "journal.db"
    holder = sqlite3.connect(path, isolation_level=None)  # another process, as SQLite sees it
    holder.execute("CREATE TABLE marks (n INTEGER)")  # a rollback journal, not WAL: a writer
    holder.execute("BEGIN EXCLUSIVE")  # about to commit keeps readers out
    holder.execute("INSERT INTO marks VALUES (1), (2)")
    database = with_thread_id(Database(f"sqlite+aiosqlite:///{path}", busy_timeout=10))
    try:
        reading = asyncio.create_task(read(database, "SELECT sum(n), thread_id() FROM marks"))
        await asyncio.sleep(0.2)
        assert not reading.done()
        holder.execute("COMMIT")
        total, thread = await reading
    finally:
        holder.close()
        await database.dispose()
    assert total == 3
    assert thread != threading.get_ident()


async def test_the_reader_writes_nothing(sqlite_db):
    with pytest.raises(OperationalError, match="readonly"):
        async with SqlUnitOfWork(sqlite_db, read_only=True) as uow:
            await uow.members.conn.execute(text("CREATE TABLE nope (n INTEGER)"))


async def test_a_cancelled_long_read_is_stopped_and_the_reader_still_works(sqlite_db):
    slow = asyncio.create_task(
        read(sqlite_db, COUNT_TO.format(n=10**10) + "SELECT max(x), thread_id() FROM c")
    )
    await asyncio.sleep(0)  # the read starts, runs out of its budget and moves out
    assert not slow.done()
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert await read(sqlite_db, "SELECT 7, thread_id()") == (7, threading.get_ident())


async def dropped_in_use(database, kept) -> None:
    """A unit of work on the kept connection `kept` whose connection drops (ConnectionError)."""
    async with SqlUnitOfWork(database) as uow:
        assert uow.members.conn is kept
        await uow.members.conn.invalidate()  # as when the database drops a connection
        raise ConnectionError


async def test_a_unit_of_work_keeps_its_connection_for_the_next(database):
    async with SqlUnitOfWork(database, read_only=True) as uow:
        first = uow.members.conn
    async with SqlUnitOfWork(database, read_only=True) as uow:
        assert uow.members.conn is first
    async with SqlUnitOfWork(database) as uow:
        written = uow.members.conn
    with pytest.raises(ConnectionError):
        await dropped_in_use(database, written)
    async with SqlUnitOfWork(database) as uow:
        assert uow.members.conn is not written
