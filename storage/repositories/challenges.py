"""Challenges: who joined which, what each member's windows were told and won, and the
receipts and friends progress is counted from.

A completion is one conditional upsert on the window's unique key (member, challenge,
window start): of two transactions completing the same window, the second finds
`completed_at` set and completes nothing, so the reward is paid once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, select, update

from domain.challenges import ChallengeReceipt
from domain.earning import PurchaseLine
from domain.ports import ChallengeJoin, ChallengeMark
from storage.aio import AsyncConnection
from storage.repositories.upsert import dialect_insert, insert_ignoring_conflict
from storage.tables import ChallengeJoinRow, ChallengeWindowRow, PurchaseRow, ReferralRow

WINDOW_KEY = ("member_id", "challenge_id", "window_start")


def _members(
    column: ColumnElement[int], first_id: int, last_id: int, among: Collection[int] | None
) -> ColumnElement[bool]:
    """Members `first_id`..`last_id`, or only those `among` them when given."""
    if among is None:
        return column.between(first_id, last_id)
    return column.in_(sorted(m for m in among if first_id <= m <= last_id))


class SqlChallenges:
    """Implements `domain.ports.ChallengeRepository`."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn, self.dialect = conn, dialect

    async def join(
        self, member_id: int, challenge_id: str, at: datetime, rejoin_before: datetime | None
    ) -> bool:
        """Join the member at `at`; False when they had joined already, unless they joined
        before `rejoin_before` (a rolling window that ended): then they join again."""
        inserted = await self.conn.execute(
            insert_ignoring_conflict(
                self.dialect,
                ChallengeJoinRow,
                member_id=member_id,
                challenge_id=challenge_id,
                joined_at=at,
            ).returning(ChallengeJoinRow.c.member_id)
        )
        if inserted.first() is not None:
            return True
        if rejoin_before is None:
            return False
        again = await self.conn.execute(
            update(ChallengeJoinRow)
            .where(
                ChallengeJoinRow.c.member_id == member_id,
                ChallengeJoinRow.c.challenge_id == challenge_id,
                ChallengeJoinRow.c.joined_at <= rejoin_before,
            )
            .values(joined_at=at)
        )
        return bool(again.rowcount)

    async def joins(
        self, first_id: int, last_id: int, *, among: Collection[int] | None = None
    ) -> Sequence[ChallengeJoin]:
        """The challenges the members joined, with when."""
        rows = await self.conn.execute(
            select(
                ChallengeJoinRow.c.member_id,
                ChallengeJoinRow.c.challenge_id,
                ChallengeJoinRow.c.joined_at,
            ).where(_members(ChallengeJoinRow.c.member_id, first_id, last_id, among))
        )
        return [ChallengeJoin(*row) for row in rows]

    async def marks(
        self, first_id: int, last_id: int, *, among: Collection[int] | None = None
    ) -> Sequence[ChallengeMark]:
        """The members' windows they were told of (halfway or completed)."""
        rows = await self.conn.execute(
            select(
                ChallengeWindowRow.c.member_id,
                ChallengeWindowRow.c.challenge_id,
                ChallengeWindowRow.c.window_start,
                ChallengeWindowRow.c.halfway_at,
                ChallengeWindowRow.c.completed_at,
            ).where(_members(ChallengeWindowRow.c.member_id, first_id, last_id, among))
        )
        return [ChallengeMark(*row) for row in rows]

    async def receipts(
        self,
        first_id: int,
        last_id: int,
        since: datetime,
        until: datetime,
        *,
        among: Collection[int] | None = None,
    ) -> Sequence[tuple[int, ChallengeReceipt]]:
        """The members' receipts that occurred in `[since, until)` and are not wholly
        refunded, with what was refunded of each."""
        rows = await self.conn.execute(
            select(
                PurchaseRow.c.member_id,
                PurchaseRow.c.occurred_at,
                PurchaseRow.c.lines,
                PurchaseRow.c.refunded,
            ).where(
                _members(PurchaseRow.c.member_id, first_id, last_id, among),
                PurchaseRow.c.occurred_at >= since,
                PurchaseRow.c.occurred_at < until,
                PurchaseRow.c.refunded < PurchaseRow.c.total,
            )
        )
        return [
            (row.member_id, ChallengeReceipt(row.occurred_at, _lines(row.lines), row.refunded))
            for row in rows
        ]

    async def friends(
        self,
        first_id: int,
        last_id: int,
        since: datetime,
        until: datetime,
        *,
        among: Collection[int] | None = None,
    ) -> Sequence[tuple[int, datetime]]:
        """When each friend the members invited qualified (and was rewarded) in the range."""
        rows = await self.conn.execute(
            select(ReferralRow.c.referrer_id, ReferralRow.c.qualified_at).where(
                _members(ReferralRow.c.referrer_id, first_id, last_id, among),
                ReferralRow.c.status == "rewarded",
                ReferralRow.c.qualified_at >= since,
                ReferralRow.c.qualified_at < until,
            )
        )
        return [(row.referrer_id, row.qualified_at) for row in rows]

    async def mark_halfway(
        self, member_id: int, challenge_id: str, window_start: datetime, at: datetime
    ) -> bool:
        """Note that the member was told of halfway in this window; False when noted before."""
        inserted = await self.conn.execute(
            insert_ignoring_conflict(
                self.dialect,
                ChallengeWindowRow,
                member_id=member_id,
                challenge_id=challenge_id,
                window_start=window_start,
                halfway_at=at,
                points=0,
            ).returning(ChallengeWindowRow.c.id)
        )
        return inserted.first() is not None

    async def complete(
        self, member_id: int, challenge_id: str, window_start: datetime, at: datetime
    ) -> bool:
        """Mark the window completed at `at`; False when it was completed before (by this
        transaction's twin, too: the second waits for the first's key and then finds it)."""
        insert = dialect_insert(self.dialect, ChallengeWindowRow).values(
            member_id=member_id,
            challenge_id=challenge_id,
            window_start=window_start,
            completed_at=at,
            points=0,
        )
        statement = insert.on_conflict_do_update(
            index_elements=list(WINDOW_KEY),
            set_={"completed_at": at},
            where=ChallengeWindowRow.c.completed_at.is_(None),
        ).returning(ChallengeWindowRow.c.id)
        return (await self.conn.execute(statement)).first() is not None

    async def settle(
        self,
        member_id: int,
        challenge_id: str,
        window_start: datetime,
        points: int,
        transaction_id: int | None,
        voucher_id: int | None,
    ) -> None:
        """Record what a completed window gave: points (with their transaction), a voucher."""
        await self.conn.execute(
            update(ChallengeWindowRow)
            .where(
                ChallengeWindowRow.c.member_id == member_id,
                ChallengeWindowRow.c.challenge_id == challenge_id,
                ChallengeWindowRow.c.window_start == window_start,
            )
            .values(points=points, transaction_id=transaction_id, voucher_id=voucher_id)
        )


def _lines(stored: dict[str, list[dict[str, str | int]]]) -> tuple[PurchaseLine, ...]:
    """A receipt's lines as stored with its purchase (JSON: {"lines": [...]})."""
    return tuple(
        PurchaseLine(
            str(ln["sku"]), str(ln["category"]), int(ln["quantity"]), Decimal(str(ln["unit_price"]))
        )
        for ln in stored["lines"]
    )
