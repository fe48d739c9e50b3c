"""Donations and the running total of each cause."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update

from storage.aio import AsyncConnection
from storage.repositories.upsert import insert_ignoring_conflict
from storage.tables import CauseTotalRow, DonationRow, RoundUpRow


class SqlCauses:
    """Implements `domain.ports.CauseRepository`."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn, self.dialect = conn, dialect

    async def add_donation(
        self,
        member_id: int,
        cause_id: str,
        points: int,
        transaction_id: int,
        at: datetime,
        request_id: str | None,
    ) -> None:
        await self.conn.execute(
            insert(DonationRow).values(
                member_id=member_id,
                cause_id=cause_id,
                points=points,
                transaction_id=transaction_id,
                created_at=at,
                request_id=request_id,
            )
        )
        await self.conn.execute(
            insert_ignoring_conflict(self.dialect, CauseTotalRow, cause_id=cause_id, points=0)
        )
        await self.conn.execute(
            update(CauseTotalRow)
            .where(CauseTotalRow.c.cause_id == cause_id)
            .values(points=CauseTotalRow.c.points + points)
        )

    async def donation_by_request(self, member_id: int, request_id: str) -> tuple[str, int] | None:
        """The cause and points of the donation made under this request id, if any."""
        statement = select(DonationRow.c.cause_id, DonationRow.c.points).where(
            DonationRow.c.member_id == member_id, DonationRow.c.request_id == request_id
        )
        row = (await self.conn.execute(statement)).first()
        return None if row is None else (row.cause_id, row.points)

    async def total(self, cause_id: str) -> int:
        statement = select(CauseTotalRow.c.points).where(CauseTotalRow.c.cause_id == cause_id)
        return (await self.conn.execute(statement)).scalar_one_or_none() or 0

    async def member_total(self, member_id: int, cause_id: str) -> int:
        statement = select(func.coalesce(func.sum(DonationRow.c.points), 0)).where(
            DonationRow.c.member_id == member_id, DonationRow.c.cause_id == cause_id
        )
        return int((await self.conn.execute(statement)).scalar_one())

    async def round_up_causes(self, member_ids: Collection[int]) -> Mapping[int, str]:
        """The cause each of these members rounds up for (those who do not are left out)."""
        if not member_ids:
            return {}
        rows = await self.conn.execute(
            select(RoundUpRow.c.member_id, RoundUpRow.c.cause_id).where(
                RoundUpRow.c.member_id.in_(sorted(member_ids))
            )
        )
        return {row.member_id: row.cause_id for row in rows}

    async def set_round_up(self, member_id: int, cause_id: str | None, at: datetime) -> None:
        """Round up for `cause_id` from now on, or stop (None)."""
        await self.conn.execute(delete(RoundUpRow).where(RoundUpRow.c.member_id == member_id))
        if cause_id is not None:
            await self.conn.execute(
                insert(RoundUpRow).values(member_id=member_id, cause_id=cause_id, chosen_at=at)
            )
