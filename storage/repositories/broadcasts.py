"""Broadcasts: the content, and the recipients queued with one INSERT ... SELECT.

Recipients never pass through Python: a million members are one statement, a few seconds.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, exists, func, insert, literal, select, text, update
from sqlalchemy.engine import Row

from domain.broadcasts import Broadcast, BroadcastContent, BroadcastProgress
from domain.segments import Segment
from storage.aio import AsyncConnection
from storage.repositories.segments import reachable_for_marketing, segment_conditions
from storage.tables import PENDING, BroadcastRow, MemberRow, OutboxRow
from storage.types import UTCDateTime

TEMPLATE = "broadcast"  # the outbox row's marker: the text is the broadcast's, not a template
RECIPIENT_COLUMNS = (
    "member_id",
    "template",
    "context",
    "created_at",
    "attempts",
    "state",
    "broadcast_id",
)


def _broadcast(b: Row[Any]) -> Broadcast:
    content = BroadcastContent(
        b.text or "", b.photo, b.button_text, b.button_url, b.bonus_points, b.reward_id
    )
    return Broadcast(
        b.id,
        b.created_by,
        b.created_at,
        content,
        Segment.from_dict(b.segment),
        b.state,
        b.total,
        b.status_chat_id,
        b.status_message_id,
        b.stop_reason,
    )


class SqlBroadcasts:
    """Implements `domain.ports.BroadcastRepository`."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    async def add(
        self, content: BroadcastContent, segment: Segment, created_by: str, at: datetime
    ) -> int:
        result = await self.conn.execute(
            insert(BroadcastRow)
            .values(
                created_by=created_by,
                created_at=at,
                text=content.text,
                photo=content.photo,
                button_text=content.button_text,
                button_url=content.button_url,
                bonus_points=content.bonus_points,
                reward_id=content.reward_id,
                segment=segment.as_dict(),
                state="running",
                total=0,
            )
            .returning(BroadcastRow.c.id)
        )
        return int(result.scalar_one())

    async def queue(self, broadcast_id: int, segment: Segment, at: datetime) -> int:
        """One outbox row per member of the segment; their number, also stored as the total."""
        recipients = select(
            MemberRow.c.id,
            literal(TEMPLATE),
            literal({}, JSON()),
            literal(at, UTCDateTime()),
            literal(0),
            literal("pending"),
            literal(broadcast_id),
        ).where(*self._audience(segment, at))
        result = await self.conn.execute(
            insert(OutboxRow).from_select(RECIPIENT_COLUMNS, recipients)
        )
        total = int(result.rowcount)
        await self.conn.execute(
            update(BroadcastRow).where(BroadcastRow.c.id == broadcast_id).values(total=total)
        )
        return total

    async def count(self, segment: Segment, at: datetime) -> int:
        statement = select(func.count()).select_from(MemberRow).where(*self._audience(segment, at))
        return int((await self.conn.execute(statement)).scalar_one())

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = (
            await self.conn.execute(select(BroadcastRow).where(BroadcastRow.c.id == broadcast_id))
        ).first()
        return None if row is None else _broadcast(row)

    async def recent(self, limit: int) -> Sequence[Broadcast]:
        rows = await self.conn.execute(
            select(BroadcastRow).order_by(BroadcastRow.c.id.desc()).limit(limit)
        )
        return [_broadcast(row) for row in rows.all()]

    async def progress(self, broadcast_id: int) -> BroadcastProgress | None:
        total = (
            await self.conn.execute(
                select(BroadcastRow.c.total).where(BroadcastRow.c.id == broadcast_id)
            )
        ).scalar()
        if total is None:
            return None
        counts = await self.conn.execute(
            select(OutboxRow.c.state, func.count())
            .where(OutboxRow.c.broadcast_id == broadcast_id)
            .group_by(OutboxRow.c.state)
        )
        return BroadcastProgress(total, **{state: int(n) for state, n in counts.all()})

    async def cancel(self, broadcast_id: int, at: datetime, reason: str | None) -> int:
        """Stop a running broadcast; the number of messages that will not be sent."""
        running = await self.conn.execute(
            update(BroadcastRow)
            .where(BroadcastRow.c.id == broadcast_id, BroadcastRow.c.state == "running")
            .values(state="cancelled", stop_reason=reason[:512] if reason else None)
        )
        if running.rowcount == 0:
            return 0
        result = await self.conn.execute(
            update(OutboxRow)
            .where(OutboxRow.c.broadcast_id == broadcast_id, text(PENDING))
            .values(
                state="cancelled",
                failed_at=at,
                last_error=f"stopped: {reason}" if reason else "cancelled",
            )
        )
        return int(result.rowcount)

    async def cancelled_among(self, broadcast_ids: Collection[int]) -> set[int]:
        """Which of these broadcasts were cancelled."""
        if not broadcast_ids:
            return set()
        result = await self.conn.execute(
            select(BroadcastRow.c.id).where(
                BroadcastRow.c.id.in_(broadcast_ids), BroadcastRow.c.state == "cancelled"
            )
        )
        return set(result.scalars())

    async def finish(self, broadcast_ids: Sequence[int]) -> None:
        """Mark running broadcasts with nothing pending any more as done."""
        if not broadcast_ids:
            return
        left = exists(
            select(OutboxRow.c.id).where(
                OutboxRow.c.broadcast_id == BroadcastRow.c.id, OutboxRow.c.state == "pending"
            )
        )
        await self.conn.execute(
            update(BroadcastRow)
            .where(BroadcastRow.c.id.in_(broadcast_ids), BroadcastRow.c.state == "running", ~left)
            .values(state="done")
        )

    async def set_status_message(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        await self.conn.execute(
            update(BroadcastRow)
            .where(BroadcastRow.c.id == broadcast_id)
            .values(status_chat_id=chat_id, status_message_id=message_id)
        )

    def _audience(self, segment: Segment, at: datetime) -> list[ColumnElement[bool]]:
        return [*reachable_for_marketing(), *segment_conditions(segment, at, self.dialect)]
