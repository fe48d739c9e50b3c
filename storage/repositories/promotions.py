"""Promotion announcements: who is told a promotion started, and the key that tells once."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import select, update

from domain.ports import Listener
from storage.aio import AsyncConnection
from storage.repositories.segments import reachable_for_marketing
from storage.repositories.upsert import insert_ignoring_conflict
from storage.tables import MemberRow, PromotionAnnouncementRow


class SqlPromotions:
    """Implements `domain.ports.PromotionRepository`."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn, self.dialect = conn, dialect

    async def claim_announcement(self, promotion_id: str, starts: str, at: datetime) -> bool:
        """Record that this promotion (id and start) is being announced; False when it was
        already, by an earlier run or another process."""
        statement = insert_ignoring_conflict(
            self.dialect,
            PromotionAnnouncementRow,
            promotion_id=promotion_id,
            starts=starts,
            announced_at=at,
            members=0,
        ).returning(PromotionAnnouncementRow.c.promotion_id)
        return (await self.conn.execute(statement)).scalar_one_or_none() is not None

    async def set_told(self, promotion_id: str, starts: str, members: int) -> None:
        """How many members the announcement was queued for."""
        await self.conn.execute(
            update(PromotionAnnouncementRow)
            .where(
                PromotionAnnouncementRow.c.promotion_id == promotion_id,
                PromotionAnnouncementRow.c.starts == starts,
            )
            .values(members=members)
        )

    async def listeners(self, tiers: Collection[str]) -> Sequence[Listener]:
        """Members who take offers (opted in, reachable, not forgotten) in `tiers` (every
        tier when empty), with their time zone."""
        statement = select(MemberRow.c.id, MemberRow.c.timezone).where(*reachable_for_marketing())
        if tiers:
            statement = statement.where(MemberRow.c.tier.in_(tiers))
        rows = await self.conn.execute(statement.order_by(MemberRow.c.id))
        return [Listener(row.id, row.timezone) for row in rows]
