"""Engines for SQLite (embedded default) and PostgreSQL, chosen by the database URL.

SQLite: WAL, a busy timeout, foreign keys on, and write transactions that take the write
lock up front (`BEGIN IMMEDIATE`, SQLAlchemy's documented pysqlite recipe), so a
read-then-write transaction never fails with "database is locked" half-way. Reads go
through a second engine that begins deferred transactions, so they do not queue behind
writers. Writers of one process wait their turn in a FIFO queue instead of SQLite's busy
handler, which is unfair: under load one writer could wait seconds while others won.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

DEFAULT_URL = "sqlite+aiosqlite:///loyalty.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    """Whether a database URL names SQLite."""
    return url.startswith("sqlite")


def _sqlite_engine(url: str, immediate: bool, **options: Any) -> AsyncEngine:
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                                 pool_reset_on_return=None, **options)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
                       "foreign_keys=ON", "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


# Connections go back to the pool without the pool's extra ROLLBACK round trip: every unit
# of work ends its own transaction, and closing a connection rolls back what is left open.


class Database:
    """The engines of one database: `writer` for use cases, `reader` for read-only queries."""

    def __init__(self, url: str = DEFAULT_URL, **engine_options: Any) -> None:
        self.url = url
        self.writer_queue: asyncio.Lock | None = None
        if is_sqlite(url):
            self.writer = _sqlite_engine(url, immediate=True, **engine_options)
            self.reader = _sqlite_engine(url, immediate=False, **engine_options)
            self.writer_queue = asyncio.Lock()
        else:
            options = {"pool_size": 10, "max_overflow": 20, "pool_reset_on_return": None,
                       **engine_options}
            self.writer = self.reader = create_async_engine(url, **options)

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.writer.dialect.name

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()
