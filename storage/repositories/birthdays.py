"""Members' birthdays (day and month), and who may be due the birthday action today."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlalchemy import and_, delete, exists, or_, select, update

from domain.ports import Birthday, BirthdayCandidate
from domain.services.birthdays import LEAP_YEAR
from storage.aio import AsyncConnection
from storage.repositories.upsert import insert_ignoring_conflict
from storage.tables import ActionClaimRow, BirthdayRow, MemberRow


class SqlBirthdays:
    """Implements `domain.ports.BirthdayRepository`."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn, self.dialect = conn, dialect

    async def get(self, member_id: int) -> Birthday | None:
        """The member's birthday, or None when they have not set one."""
        row = (
            await self.conn.execute(
                select(BirthdayRow.c.month, BirthdayRow.c.day, BirthdayRow.c.set_at).where(
                    BirthdayRow.c.member_id == member_id
                )
            )
        ).first()
        return Birthday(member_id, row.month, row.day, row.set_at) if row is not None else None

    async def put(
        self, member_id: int, month: int, day: int, at: datetime, set_before: datetime
    ) -> bool:
        """Set the birthday if none is set, or change one set at `set_before` or earlier;
        False (nothing changed) when it was set later than that."""
        changed = await self.conn.execute(
            update(BirthdayRow)
            .where(BirthdayRow.c.member_id == member_id, BirthdayRow.c.set_at <= set_before)
            .values(month=month, day=day, set_at=at)
        )
        if changed.rowcount:
            return True
        added = await self.conn.execute(
            insert_ignoring_conflict(
                self.dialect, BirthdayRow, member_id=member_id, month=month, day=day, set_at=at
            )
        )
        return bool(added.rowcount)

    async def due(
        self, action_id: str, days: Collection[tuple[int, int, int]]
    ) -> Sequence[BirthdayCandidate]:
        """Members (not forgotten) whose birthday is one of `days`, given as (month, day,
        year), and whom the action has not paid for that year yet."""
        if not days:
            return []
        paid = [
            exists().where(
                ActionClaimRow.c.member_id == BirthdayRow.c.member_id,
                ActionClaimRow.c.action_id == action_id,
                ActionClaimRow.c.period == str(year),
            )
            for _, _, year in days
        ]
        on_day = [
            and_(BirthdayRow.c.month == month, BirthdayRow.c.day == day, ~taken)
            for (month, day, _), taken in zip(days, paid, strict=True)
        ]
        rows = await self.conn.execute(
            select(
                BirthdayRow.c.member_id,
                BirthdayRow.c.month,
                BirthdayRow.c.day,
                MemberRow.c.timezone,
                MemberRow.c.joined_at,
            )
            .join(MemberRow, MemberRow.c.id == BirthdayRow.c.member_id)
            .where(MemberRow.c.forgotten_at.is_(None), or_(*on_day))
            .order_by(BirthdayRow.c.member_id)
        )
        return [
            BirthdayCandidate(
                row.member_id, date(LEAP_YEAR, row.month, row.day), row.timezone, row.joined_at
            )
            for row in rows
        ]

    async def erase(self, member_id: int) -> None:
        """Forget the member's birthday (personal data)."""
        await self.conn.execute(delete(BirthdayRow).where(BirthdayRow.c.member_id == member_id))
