"""The month's leaderboard, ranked in the database, and who chose to be named on it.

One statement sums each member's month (ledger points of the counted kinds, or receipts
not wholly refunded), ranks the sums with a window function (ties: whoever reached their
total first, then the lower member id) and returns only the top places and the asking
member's own: the rows never leave the database.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Subquery, delete, func, or_, select

from domain.ports import Placing
from storage.aio import AsyncConnection
from storage.repositories.upsert import insert_ignoring_conflict
from storage.tables import LeaderboardNameRow, MemberRow, PurchaseRow, TransactionRow


class SqlLeaderboard:
    """Implements `domain.ports.LeaderboardRepository`."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn, self.dialect = conn, dialect

    async def is_named(self, member_id: int) -> bool:
        """Whether the member chose to appear by name."""
        found = await self.conn.execute(
            select(LeaderboardNameRow.c.member_id).where(
                LeaderboardNameRow.c.member_id == member_id
            )
        )
        return found.first() is not None

    async def set_named(self, member_id: int, named: bool, at: datetime) -> None:
        """Appear by name from now on, or (named False) as a masked code."""
        if named:
            await self.conn.execute(
                insert_ignoring_conflict(
                    self.dialect, LeaderboardNameRow, member_id=member_id, chosen_at=at
                )
            )
        else:
            await self.conn.execute(
                delete(LeaderboardNameRow).where(LeaderboardNameRow.c.member_id == member_id)
            )

    async def by_points(
        self, kinds: Collection[str], since: datetime, until: datetime, size: int, member_id: int
    ) -> Sequence[Placing]:
        """Ranked by the sum of the ledger points of `kinds` in `[since, until)`."""
        ledger = TransactionRow.c
        scores = (
            select(
                ledger.member_id.label("member_id"),
                func.sum(ledger.points).label("value"),
                func.max(ledger.created_at).label("reached"),
            )
            .where(ledger.kind.in_(kinds), ledger.created_at >= since, ledger.created_at < until)
            .group_by(ledger.member_id)
            .having(func.sum(ledger.points) > 0)
        ).subquery("scores")
        return await self._placings(scores, size, member_id)

    async def by_purchases(
        self, since: datetime, until: datetime, size: int, member_id: int
    ) -> Sequence[Placing]:
        """Ranked by receipts made in `[since, until)`, less those wholly refunded."""
        receipts = PurchaseRow.c
        scores = (
            select(
                receipts.member_id.label("member_id"),
                func.count().label("value"),
                func.max(receipts.occurred_at).label("reached"),
            )
            .where(
                receipts.occurred_at >= since,
                receipts.occurred_at < until,
                receipts.refunded < receipts.total,
            )
            .group_by(receipts.member_id)
        ).subquery("scores")
        return await self._placings(scores, size, member_id)

    async def _placings(self, scores: Subquery, size: int, member_id: int) -> list[Placing]:
        """The top `size` places of `scores` (member_id, value, reached) and the member's."""
        order = (scores.c.value.desc(), scores.c.reached, scores.c.member_id)
        ranked = (
            select(
                scores.c.member_id,
                scores.c.value,
                MemberRow.c.code,
                MemberRow.c.first_name,
                func.row_number().over(order_by=order).label("rank"),
            )
            .join(MemberRow, MemberRow.c.id == scores.c.member_id)
            .where(MemberRow.c.forgotten_at.is_(None))
        ).subquery("ranked")
        rows = await self.conn.execute(
            select(ranked, LeaderboardNameRow.c.member_id.label("named"))
            .outerjoin(LeaderboardNameRow, LeaderboardNameRow.c.member_id == ranked.c.member_id)
            .where(or_(ranked.c.rank <= size, ranked.c.member_id == member_id))
            .order_by(ranked.c.rank)
        )
        return [
            Placing(
                int(row.rank),
                row.member_id,
                int(row.value),
                row.code or "",
                row.first_name if row.named is not None else None,
            )
            for row in rows
        ]
