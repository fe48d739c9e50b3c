"""Members' stamp cards: read for a batch of members, written back in one statement."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import case, select, update

from domain.ports import StampState
from storage.aio import AsyncConnection
from storage.repositories.upsert import dialect_insert
from storage.tables import StampCardRow


class SqlStamps:
    """Implements `domain.ports.StampRepository`."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn, self.dialect = conn, dialect

    async def cards(self, member_ids: Collection[int]) -> Sequence[StampState]:
        """Every card of these members that has a row (a card never stamped has none)."""
        if not member_ids:
            return []
        rows = await self.conn.execute(
            select(
                StampCardRow.c.member_id,
                StampCardRow.c.card_id,
                StampCardRow.c.stamps,
                StampCardRow.c.filled,
            )
            .where(StampCardRow.c.member_id.in_(sorted(member_ids)))
            .order_by(StampCardRow.c.member_id, StampCardRow.c.card_id)
        )
        return [StampState(r.member_id, r.card_id, r.stamps, r.filled) for r in rows]

    async def put_many(self, states: Sequence[StampState], at: datetime) -> None:
        """Write these cards as they are now (inserted or replaced), in one statement."""
        if not states:
            return
        statement = dialect_insert(self.dialect, StampCardRow)
        await self.conn.execute(
            statement.on_conflict_do_update(
                index_elements=[StampCardRow.c.member_id, StampCardRow.c.card_id],
                set_={
                    "stamps": statement.excluded.stamps,
                    "filled": statement.excluded.filled,
                    "updated_at": statement.excluded.updated_at,
                },
            ),
            [
                {
                    "member_id": s.member_id,
                    "card_id": s.card_id,
                    "stamps": s.stamps,
                    "filled": s.filled,
                    "updated_at": at,
                }
                for s in states
            ],
        )

    async def take_back(self, member_id: int, card_id: str, stamps: int, at: datetime) -> None:
        """Take `stamps` off the current card, never below zero (the cards filled stay)."""
        await self.conn.execute(
            update(StampCardRow)
            .where(StampCardRow.c.member_id == member_id, StampCardRow.c.card_id == card_id)
            .values(
                stamps=case(
                    (StampCardRow.c.stamps > stamps, StampCardRow.c.stamps - stamps), else_=0
                ),
                updated_at=at,
            )
        )
