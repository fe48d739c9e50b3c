"""`LeaderLock`: which of the processes on one database is the leader (the scheduler's).

On PostgreSQL the leader is the process holding a session-level advisory lock on a
connection of its own. The lock dies with that connection (a killed process, a lost
network), so the others, asking again every few seconds, take over. On SQLite one process
serves the database (SQLite serialises writers), so that process always leads.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.pool import NullPool

from storage.aio import AsyncConnection, AsyncEngine, create_async_engine
from storage.database import Database
from storage.locks import LEADER_LOCK


class LeaderLock:
    """Take, keep and give up the lead over `database` (implements `bot.scheduler.Leader`)."""

    def __init__(self, database: Database, key: int = LEADER_LOCK) -> None:
        self.key = key
        self.leads = False
        self._postgres = database.dialect == "postgresql"
        # Its own engine without a pool: closing the connection really ends the session,
        # and with it the lock, instead of parking it in a pool.
        self._engine: AsyncEngine | None = (
            create_async_engine(database.url, poolclass=NullPool) if self._postgres else None
        )
        self._conn: AsyncConnection | None = None
        # A stop cancels a check under way; release waits for it to unwind before closing
        # the engine under it (which made the check fail with an ERROR on some stops).
        self._turn = asyncio.Lock()

    async def check(self) -> bool:
        """Keep or take the lead; whether this process leads now (False after the
        connection holding the lock was lost, until the lock is taken again)."""
        async with self._turn:
            if not self._postgres:
                self.leads = True
            elif self._conn is not None and not await self._alive(self._conn):
                self._conn, self.leads = None, False
            elif self._conn is None:
                self._conn = await self._try_lock()
                self.leads = self._conn is not None
            return self.leads

    async def release(self) -> None:
        """Give up the lead (closing the session frees the lock), after any check under way."""
        async with self._turn:
            conn, self._conn, self.leads = self._conn, None, False
            if conn is not None:
                await conn.close()
            if self._engine is not None:
                await self._engine.dispose()

    async def _alive(self, conn: AsyncConnection) -> bool:
        try:
            await conn.execute(text("SELECT 1"))
            await conn.commit()
        except Exception:
            await conn.invalidate()
            return False
        return True

    async def _try_lock(self) -> AsyncConnection | None:
        assert self._engine is not None
        conn = await self._engine.connect()
        try:
            got = (
                await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
            ).scalar()
            await conn.commit()
        except BaseException:
            await conn.close()
            raise
        if got:
            return conn
        await conn.close()
        return None
