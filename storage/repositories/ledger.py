"""The points ledger and tier credits.

Every change of a balance happens here, in the same transaction as the entries that
explain it. Spends first take the balance with a conditional update (which also locks
the account row on PostgreSQL), then read the lots, so two spends never pick the same
points.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.errors import InsufficientPoints
from domain.ledger import Lot, Take, allocate
from domain.models import LedgerRecord
from domain.ports import Posted, Posting
from storage.tables import AccountRow, EntryRow, LotRow, TierCreditRow, TransactionRow


class SqlLedger:
    """Implements `domain.ports.LedgerRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def balance(self, member_id: int) -> int:
        statement = select(AccountRow.balance).where(AccountRow.member_id == member_id)
        return (await self.conn.execute(statement)).scalar_one_or_none() or 0

    async def credit(self, posting: Posting, points: int, expires_at: datetime) -> Posted:
        """Add `points` as a new lot expiring at `expires_at`."""
        if points <= 0:
            raise ValueError(f"credit needs a positive amount, got {points}")
        transaction_id = await self._transaction(posting, points)
        lot_id = (
            await self.conn.execute(
                insert(LotRow).values(
                    member_id=posting.member_id, transaction_id=transaction_id, points=points,
                    remaining=points, earned_at=posting.at, expires_at=expires_at,
                ).returning(LotRow.id)
            )
        ).scalar_one()
        await self.conn.execute(
            insert(EntryRow).values(transaction_id=transaction_id, member_id=posting.member_id,
                                    lot_id=lot_id, points=points)
        )
        balance = await self._move_balance(posting.member_id, points)
        assert balance is not None, f"member {posting.member_id} has no account"
        return Posted(transaction_id, lot_id, balance)

    async def debit(self, posting: Posting, points: int,
                    prefer_lot_id: int | None = None) -> Posted:
        """Take `points` from the balance, soonest-expiring lots first.

        Raises InsufficientPoints, writing nothing, when the balance is short.
        """
        if points <= 0:
            raise ValueError(f"debit needs a positive amount, got {points}")
        balance = await self._move_balance(posting.member_id, -points)
        if balance is None:
            raise InsufficientPoints(needed=points, available=await self.balance(posting.member_id))
        takes = allocate(await self.open_lots(posting.member_id), points, prefer_lot_id)
        transaction_id = await self._transaction(posting, -points)
        await self._consume(posting.member_id, transaction_id, takes)
        return Posted(transaction_id, None, balance)

    async def open_lots(self, member_id: int) -> Sequence[Lot]:
        statement = (
            select(LotRow.id, LotRow.remaining, LotRow.expires_at)
            .where(LotRow.member_id == member_id, LotRow.remaining > 0)
            .order_by(LotRow.expires_at, LotRow.id)
        )
        return [Lot(*row) for row in (await self.conn.execute(statement)).all()]

    async def due_lots(self, now: datetime, limit: int) -> Sequence[tuple[int, Lot]]:
        """Open lots whose expiry has come, oldest first, with their member ids."""
        statement = (
            select(LotRow.member_id, LotRow.id, LotRow.remaining, LotRow.expires_at)
            .where(LotRow.remaining > 0, LotRow.expires_at <= now)
            .order_by(LotRow.expires_at, LotRow.id)
            .limit(limit)
        )
        rows = (await self.conn.execute(statement)).all()
        return [(member_id, Lot(lot_id, remaining, expires)) for member_id, lot_id, remaining,
                expires in rows]

    async def expire_lot(self, posting: Posting, lot: Lot) -> int:
        """Expire what is left of a lot, re-read under the account lock so no spend races it.

        Returns the points expired.
        """
        await self.conn.execute(
            select(AccountRow.balance).where(AccountRow.member_id == posting.member_id)
            .with_for_update()
        )
        remaining = (
            await self.conn.execute(select(LotRow.remaining).where(LotRow.id == lot.id))
        ).scalar_one()
        if remaining == 0:
            return 0
        transaction_id = await self._transaction(posting, -remaining)
        await self._consume(posting.member_id, transaction_id, [Take(lot.id, remaining)])
        await self._move_balance(posting.member_id, -remaining)
        return int(remaining)

    async def history(self, member_id: int, limit: int, offset: int) -> Sequence[LedgerRecord]:
        """Ledger transactions, newest first."""
        statement = (
            select(TransactionRow.id, TransactionRow.kind, TransactionRow.points,
                   TransactionRow.reason, TransactionRow.reference, TransactionRow.created_at)
            .where(TransactionRow.member_id == member_id)
            .order_by(TransactionRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [LedgerRecord(*row) for row in (await self.conn.execute(statement)).all()]

    async def count_transactions(self, member_id: int) -> int:
        statement = select(func.count()).select_from(TransactionRow).where(
            TransactionRow.member_id == member_id
        )
        return (await self.conn.execute(statement)).scalar_one()

    async def _transaction(self, posting: Posting, points: int) -> int:
        statement = insert(TransactionRow).values(
            member_id=posting.member_id, kind=posting.kind.value, points=points,
            reason=posting.reason, actor=posting.actor, reference=posting.reference,
            created_at=posting.at,
        ).returning(TransactionRow.id)
        return (await self.conn.execute(statement)).scalar_one()

    async def _consume(self, member_id: int, transaction_id: int, takes: Sequence[Take]) -> None:
        await self.conn.execute(
            insert(EntryRow),
            [{"transaction_id": transaction_id, "member_id": member_id, "lot_id": take.lot_id,
              "points": -take.points} for take in takes],
        )
        await self.conn.execute(
            update(LotRow.__table__)  # type: ignore[arg-type]
            .where(LotRow.__table__.c.id == bindparam("lot"))
            .values(remaining=LotRow.__table__.c.remaining - bindparam("take")),
            [{"lot": take.lot_id, "take": take.points} for take in takes],
        )

    async def _move_balance(self, member_id: int, delta: int) -> int | None:
        """Change a balance by `delta` unless it would go below zero; the new balance, or None."""
        result = await self.conn.execute(
            update(AccountRow)
            .where(AccountRow.member_id == member_id, AccountRow.balance + delta >= 0)
            .values(balance=AccountRow.balance + delta)
            .returning(AccountRow.balance)
        )
        return result.scalar_one_or_none()


class SqlTierCredits:
    """Implements `domain.ports.TierCreditRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, member_id: int, credits: int, occurred_at: datetime) -> None:
        if credits:
            await self.conn.execute(
                insert(TierCreditRow).values(member_id=member_id, credits=credits,
                                             occurred_at=occurred_at)
            )

    async def total_since(self, member_id: int, since: datetime) -> int:
        statement = select(func.coalesce(func.sum(TierCreditRow.credits), 0)).where(
            TierCreditRow.member_id == member_id, TierCreditRow.occurred_at > since
        )
        return int((await self.conn.execute(statement)).scalar_one())
