"""`SqlSlots`: the rate limiter's free-at times in the database, shared by every process.

Each call is one short transaction of one upsert, atomic by the row lock it takes, so
several `loyalty-bot run` processes on PostgreSQL keep one global pace and per-chat spacing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import case, delete, literal, select
from sqlalchemy.sql import Executable

from storage.database import Database
from storage.repositories.upsert import dialect_insert
from storage.tables import SendPacingRow

GLOBAL = "global"
HELD = "held"  # a 429's retry_after, apart from the pace so that senders can tell a hold
EPSILON = 1e-6


def _chat_key(chat: int) -> str:
    return f"chat:{chat}"


class SqlSlots:
    """Implements `bot.delivery.pacing.SlotStore` over the `send_pacing` table."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.dialect = database.dialect

    async def reserve(self, span: float, now: float) -> float:
        statement = dialect_insert(self.dialect, SendPacingRow).values(
            key=GLOBAL, free_at=now + span
        )
        later = case((SendPacingRow.c.free_at > now, SendPacingRow.c.free_at), else_=literal(now))
        upsert = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"free_at": later + span},
        ).returning(SendPacingRow.c.free_at)
        [free_at] = await self._run(upsert)
        return float(free_at) - span

    async def claim_chats(self, times: Mapping[int, float], spacing: float) -> set[int]:
        if not times:
            return set()
        rows = [{"key": _chat_key(chat), "free_at": at + spacing} for chat, at in times.items()]
        statement = dialect_insert(self.dialect, SendPacingRow).values(rows)
        upsert = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"free_at": statement.excluded.free_at},
            where=SendPacingRow.c.free_at <= statement.excluded.free_at - spacing + EPSILON,
        ).returning(SendPacingRow.c.key)
        keys = set(await self._run(upsert))
        return {chat for chat in times if _chat_key(chat) in keys}

    async def hold(self, until: float) -> None:
        rows = [{"key": GLOBAL, "free_at": until}, {"key": HELD, "free_at": until}]
        statement = dialect_insert(self.dialect, SendPacingRow).values(rows)
        later = case(
            (SendPacingRow.c.free_at > until, SendPacingRow.c.free_at), else_=literal(until)
        )
        await self._run(
            statement.on_conflict_do_update(index_elements=["key"], set_={"free_at": later})
        )

    async def free_at(self) -> float:
        return await self._read(GLOBAL)

    async def held_until(self) -> float:
        return await self._read(HELD)

    async def forget_before(self, moment: float) -> None:
        await self._run(
            delete(SendPacingRow).where(
                SendPacingRow.c.key.not_in((GLOBAL, HELD)), SendPacingRow.c.free_at < moment
            )
        )

    async def _read(self, key: str) -> float:
        async with self.database.reader.connect() as conn:
            value = (
                await conn.execute(
                    select(SendPacingRow.c.free_at).where(SendPacingRow.c.key == key)
                )
            ).scalar()
        return float(value or 0.0)

    async def _run(self, statement: Executable) -> list[Any]:
        """Execute in a short write transaction of its own; the first column of each row.

        It takes the write lock like every writer (`Database.begin`), so on SQLite its wait
        is bounded by the busy timeout too.
        """
        conn = await self.database.begin(write=True)
        try:
            result = await conn.execute(statement)
            rows = [row[0] for row in result] if result.returns_rows else []
            await conn.commit()
            return rows
        finally:
            await self.database.end(conn, write=True)
