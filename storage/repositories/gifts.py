"""The chat side of broadcasts: gifts claimed once per member, and the status text shown."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from storage.aio import AsyncConnection
from storage.repositories.upsert import insert_ignoring_conflict
from storage.tables import BroadcastGiftRow, BroadcastStatusRow


class SqlGifts:
    """Implements `domain.ports.GiftRepository`."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn, self.dialect = conn, dialect

    async def claim(self, broadcast_id: int, member_id: int, at: datetime) -> bool:
        """Record the claim; False when this member already claimed this broadcast's gift."""
        result = await self.conn.execute(
            insert_ignoring_conflict(
                self.dialect,
                BroadcastGiftRow,
                broadcast_id=broadcast_id,
                member_id=member_id,
                claimed_at=at,
            )
        )
        return bool(result.rowcount)

    async def status_shown(self, broadcast_id: int) -> tuple[str, str] | None:
        """The locale and text of the status message as last shown, if any."""
        row = (
            await self.conn.execute(
                select(BroadcastStatusRow.c.locale, BroadcastStatusRow.c.shown).where(
                    BroadcastStatusRow.c.broadcast_id == broadcast_id
                )
            )
        ).first()
        return (row.locale, row.shown) if row is not None else None

    async def show_status(self, broadcast_id: int, locale: str, text: str) -> None:
        """Remember the status text now on screen."""
        changed = await self.conn.execute(
            update(BroadcastStatusRow)
            .where(BroadcastStatusRow.c.broadcast_id == broadcast_id)
            .values(locale=locale, shown=text)
        )
        if not changed.rowcount:
            await self.conn.execute(
                insert_ignoring_conflict(
                    self.dialect,
                    BroadcastStatusRow,
                    broadcast_id=broadcast_id,
                    locale=locale,
                    shown=text,
                )
            )
