"""Engines for SQLite (embedded default) and PostgreSQL, chosen by the database URL.

SQLite: WAL, a busy timeout, foreign keys on, and write transactions that take the write
lock up front (`BEGIN IMMEDIATE`, SQLAlchemy's documented pysqlite recipe), so a
read-then-write transaction never fails with "database is locked" half-way. Reads go
through a second engine that begins deferred transactions, so they do not queue behind
writers.
"""

from __future__ import annotations

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


def _sqlite_engine(url: str, immediate: bool) -> AsyncEngine:
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

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


class Database:
    """The engines of one database: `writer` for use cases, `reader` for read-only queries."""

    def __init__(self, url: str = DEFAULT_URL, **engine_options: Any) -> None:
        self.url = url
        if is_sqlite(url):
            self.writer = _sqlite_engine(url, immediate=True)
            self.reader = _sqlite_engine(url, immediate=False)
        else:
            options = {"pool_size": 10, "max_overflow": 20, **engine_options}
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
