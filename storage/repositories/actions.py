"""Actions that earn, claimed once per member (per year for the birthday): the unique key
on member, action and period decides which of two concurrent claims counts, and a pending
claim is taken by one conditional update, so two admins deciding at once act once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from domain.ports import ActionClaim
from storage.aio import AsyncConnection
from storage.repositories.upsert import insert_ignoring_conflict
from storage.tables import ActionClaimRow

PENDING = "pending"
CLAIM = (
    ActionClaimRow.c.id,
    ActionClaimRow.c.member_id,
    ActionClaimRow.c.action_id,
    ActionClaimRow.c.period,
    ActionClaimRow.c.status,
    ActionClaimRow.c.points,
    ActionClaimRow.c.claimed_at,
    ActionClaimRow.c.decided_at,
    ActionClaimRow.c.decided_by,
)


def _claim(row: Any) -> ActionClaim:
    return ActionClaim(
        row.id,
        row.member_id,
        row.action_id,
        row.period,
        row.status,
        row.points,
        row.claimed_at,
        row.decided_at,
        row.decided_by,
    )


class SqlActionClaims:
    """Implements `domain.ports.ActionClaimRepository`."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn, self.dialect = conn, dialect

    async def add(
        self, member_id: int, action_id: str, period: str, status: str, at: datetime
    ) -> int | None:
        """The new claim's id; None when this member already claimed this action (in this
        period), whatever became of that claim."""
        statement = insert_ignoring_conflict(
            self.dialect,
            ActionClaimRow,
            member_id=member_id,
            action_id=action_id,
            period=period,
            status=status,
            points=0,
            claimed_at=at,
        ).returning(ActionClaimRow.c.id)
        found: int | None = (await self.conn.execute(statement)).scalar_one_or_none()
        return found

    async def get(self, claim_id: int) -> ActionClaim | None:
        """The claim with this id, or None."""
        row = (
            await self.conn.execute(select(*CLAIM).where(ActionClaimRow.c.id == claim_id))
        ).first()
        return _claim(row) if row is not None else None

    async def of_member(self, member_id: int) -> Sequence[ActionClaim]:
        """Every claim of one member, oldest first."""
        rows = await self.conn.execute(
            select(*CLAIM)
            .where(ActionClaimRow.c.member_id == member_id)
            .order_by(ActionClaimRow.c.id)
        )
        return [_claim(row) for row in rows]

    async def decide(self, claim_id: int, status: str, at: datetime, by: str) -> bool:
        """Take a pending claim to `status`; False when it was not pending (any more)."""
        result = await self.conn.execute(
            update(ActionClaimRow)
            .where(ActionClaimRow.c.id == claim_id, ActionClaimRow.c.status == PENDING)
            .values(status=status, decided_at=at, decided_by=by)
        )
        return bool(result.rowcount)

    async def settle(
        self, claim_id: int, points: int, transaction_id: int | None, voucher_id: int | None
    ) -> None:
        """Record what a paid claim gave: points (with their transaction) and a voucher."""
        await self.conn.execute(
            update(ActionClaimRow)
            .where(ActionClaimRow.c.id == claim_id)
            .values(points=points, transaction_id=transaction_id, voucher_id=voucher_id)
        )

    async def pending(self, limit: int) -> Sequence[ActionClaim]:
        """The oldest claims still waiting for a decision."""
        rows = await self.conn.execute(
            select(*CLAIM)
            .where(ActionClaimRow.c.status == PENDING)
            .order_by(ActionClaimRow.c.claimed_at, ActionClaimRow.c.id)
            .limit(limit)
        )
        return [_claim(row) for row in rows]
