"""The outbox: pending notifications claimed by a sender under a lease, then settled.

A claim marks rows `claimed_by` a sender until `claimed_until`; on PostgreSQL the rows are
picked `FOR UPDATE SKIP LOCKED`, so senders in several processes never take the same row.
A sender that dies leaves its claims to lapse; another sender takes them afterwards.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, text, update

from domain.models import Notification
from domain.outbox import Outcome
from domain.ports import NewNotification
from storage.aio import AsyncConnection
from storage.tables import PENDING, MemberRow, OutboxRow

DUE = (
    OutboxRow.c.id,
    OutboxRow.c.member_id,
    MemberRow.c.telegram_id,
    MemberRow.c.locale,
    OutboxRow.c.template,
    OutboxRow.c.context,
    OutboxRow.c.attempts,
    OutboxRow.c.broadcast_id,
    MemberRow.c.reachable,
)
SETTLE = (
    update(OutboxRow)
    .where(
        OutboxRow.c.id == bindparam("row_id"),
        OutboxRow.c.claimed_by == bindparam("worker"),
        text(PENDING),
    )
    .values(
        state=bindparam("new_state"),
        attempts=OutboxRow.c.attempts + bindparam("tries"),
        last_error=bindparam("error"),
        failed_at=bindparam("gave_up_at"),
        next_attempt_at=bindparam("retry_at"),
        claimed_by=None,
        claimed_until=None,
    )
)
MARK_SENT = (
    update(OutboxRow)
    .where(OutboxRow.c.id == bindparam("row_id"))
    .values(
        state="sent",
        sent_at=bindparam("at"),
        attempts=OutboxRow.c.attempts + 1,
        telegram_message_id=bindparam("message_id"),
        claimed_by=None,
        claimed_until=None,
    )
)


def _settle_params(worker: str, outcome: Outcome) -> dict[str, Any]:
    final = outcome.state != "pending"
    return {
        "row_id": outcome.id,
        "worker": worker,
        "new_state": outcome.state,
        "tries": int(outcome.counts_attempt),
        "error": outcome.error,
        "gave_up_at": outcome.at if final else None,
        "retry_at": outcome.retry_at,
    }


class SqlOutbox:
    """Implements `domain.ports.OutboxRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(
        self,
        member_id: int,
        template: str,
        context: dict[str, object],
        at: datetime,
        dedupe_key: str | None = None,
        due_at: datetime | None = None,
    ) -> None:
        """Queue one message, sent from `due_at` (None: at once)."""
        await self.conn.execute(
            insert(OutboxRow).values(
                member_id=member_id,
                template=template,
                context=context,
                created_at=at,
                dedupe_key=dedupe_key,
                attempts=0,
                next_attempt_at=due_at,
            )
        )

    async def add_many(self, rows: Sequence[NewNotification], at: datetime) -> None:
        """Write `rows` in one executemany: the rows `add` would write one at a time."""
        if rows:
            await self.conn.execute(
                insert(OutboxRow),
                [
                    {
                        "member_id": r.member_id,
                        "template": r.template,
                        "context": r.context,
                        "created_at": at,
                        "dedupe_key": r.dedupe_key,
                        "attempts": 0,
                        "next_attempt_at": r.due_at,
                    }
                    for r in rows
                ],
            )

    async def pending(self, limit: int) -> Sequence[Notification]:
        statement = (
            select(*DUE)
            .join(MemberRow, MemberRow.c.id == OutboxRow.c.member_id)
            .where(text(PENDING))
            .order_by(OutboxRow.c.id)
            .limit(limit)
        )
        return [Notification(*row) for row in (await self.conn.execute(statement)).all()]

    async def claim(
        self, worker: str, now: datetime, until: datetime, limit: int
    ) -> Sequence[Notification]:
        """Take up to `limit` due rows, oldest first, that no live claim holds."""
        due = (
            select(OutboxRow.c.id)
            .where(
                text(PENDING),
                or_(OutboxRow.c.next_attempt_at.is_(None), OutboxRow.c.next_attempt_at <= now),
                or_(OutboxRow.c.claimed_until.is_(None), OutboxRow.c.claimed_until < now),
            )
            .order_by(OutboxRow.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = await self.conn.execute(
            update(OutboxRow)
            .where(OutboxRow.c.id.in_(due.scalar_subquery()))
            .values(claimed_by=worker, claimed_until=until)
            .returning(OutboxRow.c.id)
        )
        ids = list(claimed.scalars())
        if not ids:
            return []
        rows = await self.conn.execute(
            select(*DUE)
            .join(MemberRow, MemberRow.c.id == OutboxRow.c.member_id)
            .where(OutboxRow.c.id.in_(ids))
            .order_by(OutboxRow.c.id)
        )
        return [Notification(*row) for row in rows.all()]

    async def settle(self, worker: str, outcomes: Sequence[Outcome]) -> None:
        """Record outcomes: a send always; anything else only while the claim is ours."""
        sent = [
            {"row_id": o.id, "at": o.at, "message_id": o.message_id}
            for o in outcomes
            if o.state == "sent"
        ]
        others = [_settle_params(worker, o) for o in outcomes if o.state != "sent"]
        if sent:
            await self.conn.execute(MARK_SENT, sent)
        if others:
            await self.conn.execute(SETTLE, others)

    async def backlog(self) -> int:
        """How many messages are queued and not yet sent (due later or in flight too)."""
        count = select(func.count()).select_from(OutboxRow).where(text(PENDING))
        return int((await self.conn.execute(count)).scalar_one())

    async def renew(self, worker: str, ids: Collection[int], until: datetime) -> None:
        """Extend this worker's claims on `ids` (rows in flight) to `until`."""
        await self.conn.execute(
            update(OutboxRow)
            .where(OutboxRow.c.id.in_(list(ids)), OutboxRow.c.claimed_by == worker, text(PENDING))
            .values(claimed_until=until)
        )

    async def release(self, worker: str) -> int:
        """Hand back every pending row this worker claimed (on a clean stop)."""
        result = await self.conn.execute(
            update(OutboxRow)
            .where(OutboxRow.c.claimed_by == worker, text(PENDING))
            .values(claimed_by=None, claimed_until=None)
        )
        return result.rowcount
