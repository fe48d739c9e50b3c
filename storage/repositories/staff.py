"""Staff, their one-time invites, and the admins' one-time dashboard login links."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from domain.models import StaffMember
from storage.aio import AsyncConnection
from storage.tables import StaffInviteRow, StaffRow, WebLoginRow


class SqlStaff:
    """Implements `domain.ports.StaffRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, telegram_id: int) -> StaffMember | None:
        row = (
            await self.conn.execute(select(StaffRow).where(StaffRow.c.telegram_id == telegram_id))
        ).first()
        return _staff(row) if row is not None else None

    async def active(self) -> Sequence[StaffMember]:
        statement = (
            select(StaffRow)
            .where(StaffRow.c.removed_at.is_(None))
            .order_by(StaffRow.c.added_at, StaffRow.c.id)
        )
        return [_staff(row) for row in (await self.conn.execute(statement)).all()]

    async def put(self, member: StaffMember) -> None:
        """Add a cashier, or bring back one who was removed."""
        values = {
            "name": member.name,
            "added_by": member.added_by,
            "added_at": member.added_at,
            "removed_at": member.removed_at,
        }
        result = await self.conn.execute(
            update(StaffRow).where(StaffRow.c.telegram_id == member.telegram_id).values(**values)
        )
        if result.rowcount == 0:
            await self.conn.execute(
                insert(StaffRow).values(telegram_id=member.telegram_id, **values)
            )

    async def remove(self, telegram_id: int, at: datetime) -> bool:
        result = await self.conn.execute(
            update(StaffRow)
            .where(StaffRow.c.telegram_id == telegram_id, StaffRow.c.removed_at.is_(None))
            .values(removed_at=at)
        )
        return bool(result.rowcount)

    async def add_invite(
        self, token_hash: str, created_by: int, at: datetime, expires_at: datetime
    ) -> None:
        await self.conn.execute(
            insert(StaffInviteRow).values(
                token_hash=token_hash, created_by=created_by, created_at=at, expires_at=expires_at
            )
        )

    async def take_invite(self, token_hash: str, telegram_id: int, at: datetime) -> int | None:
        """Use an unused, unexpired invite; the admin who made it, or None."""
        result = await self.conn.execute(
            update(StaffInviteRow)
            .where(
                StaffInviteRow.c.token_hash == token_hash,
                StaffInviteRow.c.used_at.is_(None),
                StaffInviteRow.c.expires_at > at,
            )
            .values(used_by=telegram_id, used_at=at)
            .returning(StaffInviteRow.c.created_by)
        )
        found: int | None = result.scalar_one_or_none()
        return found

    async def add_login(
        self, token_hash: str, telegram_id: int, at: datetime, expires_at: datetime
    ) -> None:
        await self.conn.execute(
            insert(WebLoginRow).values(
                token_hash=token_hash, telegram_id=telegram_id, created_at=at, expires_at=expires_at
            )
        )

    async def take_login(self, token_hash: str, at: datetime) -> int | None:
        """Use an unused, unexpired login link; the admin it was made for, or None."""
        result = await self.conn.execute(
            update(WebLoginRow)
            .where(
                WebLoginRow.c.token_hash == token_hash,
                WebLoginRow.c.used_at.is_(None),
                WebLoginRow.c.expires_at > at,
            )
            .values(used_at=at)
            .returning(WebLoginRow.c.telegram_id)
        )
        found: int | None = result.scalar_one_or_none()
        return found


def _staff(row: Row[Any]) -> StaffMember:
    return StaffMember(row.telegram_id, row.name, row.added_by, row.added_at, row.removed_at)
