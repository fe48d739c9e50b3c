"""The outbox: pending notifications, oldest first, with the recipient's chat and language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.models import Notification
from storage.tables import PENDING, MemberRow, OutboxRow


class SqlOutbox:
    """Implements `domain.ports.OutboxRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, member_id: int, template: str, context: dict[str, object],
                  at: datetime, dedupe_key: str | None = None) -> None:
        await self.conn.execute(insert(OutboxRow).values(
            member_id=member_id, template=template, context=context, created_at=at,
            dedupe_key=dedupe_key, attempts=0))

    async def pending(self, limit: int) -> Sequence[Notification]:
        statement = (
            select(OutboxRow.id, OutboxRow.member_id, MemberRow.telegram_id, MemberRow.locale,
                   OutboxRow.template, OutboxRow.context, OutboxRow.attempts)
            .join(MemberRow, MemberRow.id == OutboxRow.member_id)
            .where(text(PENDING)).order_by(OutboxRow.id).limit(limit)
        )
        return [Notification(*row) for row in (await self.conn.execute(statement)).all()]

    async def mark_sent(self, notification_id: int, at: datetime) -> None:
        await self.conn.execute(update(OutboxRow).where(OutboxRow.id == notification_id)
                                .values(sent_at=at, attempts=OutboxRow.attempts + 1))

    async def mark_failed(self, notification_id: int, at: datetime, error: str,
                          final: bool) -> None:
        """Count a failed attempt; a final failure is never retried."""
        await self.conn.execute(update(OutboxRow).where(OutboxRow.id == notification_id)
                                .values(attempts=OutboxRow.attempts + 1, last_error=error,
                                        failed_at=at if final else None))
