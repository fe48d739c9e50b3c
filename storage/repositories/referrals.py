"""Referrals and the milestone bonuses already awarded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, func, insert, select, update

from domain.models import Referral
from storage.aio import AsyncConnection
from storage.repositories.upsert import insert_ignoring_conflict
from storage.tables import MilestoneRow, ReferralRow


class SqlReferrals:
    """Implements `domain.ports.ReferralRepository`."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn, self.dialect = conn, dialect

    async def add(self, referrer_id: int, invitee_id: int, at: datetime) -> None:
        await self.conn.execute(
            insert(ReferralRow).values(
                referrer_id=referrer_id, invitee_id=invitee_id, status="pending", joined_at=at
            )
        )

    async def pending_for_invitee(self, invitee_id: int) -> Referral | None:
        statement = select(ReferralRow).where(
            ReferralRow.c.invitee_id == invitee_id, ReferralRow.c.status == "pending"
        )
        row = (await self.conn.execute(statement)).first()
        if row is None:
            return None
        return Referral(
            row.id, row.referrer_id, row.invitee_id, row.status, row.joined_at, row.qualified_at
        )

    async def set_status(self, referral_id: int, status: str, at: datetime) -> None:
        await self.conn.execute(
            update(ReferralRow)
            .where(ReferralRow.c.id == referral_id)
            .values(status=status, qualified_at=at)
        )

    async def rewarded_between(self, referrer_id: int, start: datetime, end: datetime) -> int:
        statement = (
            select(func.count())
            .select_from(ReferralRow)
            .where(
                ReferralRow.c.referrer_id == referrer_id,
                ReferralRow.c.status == "rewarded",
                ReferralRow.c.qualified_at >= start,
                ReferralRow.c.qualified_at < end,
            )
        )
        return (await self.conn.execute(statement)).scalar_one()

    async def count(self, referrer_id: int, status: str | None = None) -> int:
        statement = (
            select(func.count())
            .select_from(ReferralRow)
            .where(ReferralRow.c.referrer_id == referrer_id)
        )
        if status is not None:
            statement = statement.where(ReferralRow.c.status == status)
        return (await self.conn.execute(statement)).scalar_one()

    async def add_milestone(self, referrer_id: int, count: int, at: datetime) -> bool:
        """Mark a milestone awarded; False when it already was."""
        result = await self.conn.execute(
            insert_ignoring_conflict(
                self.dialect, MilestoneRow, referrer_id=referrer_id, count=count, awarded_at=at
            )
        )
        assert isinstance(result, CursorResult)
        return result.rowcount == 1
