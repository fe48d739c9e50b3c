"""The points ledger and tier credits.

Every change of a balance happens here, in the same transaction as the entries that
explain it. Spends first take the balance with a conditional update (which also locks
the account row on PostgreSQL), then read the lots, so two spends never pick the same
points.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Table, bindparam, func, insert, select, update

from domain.errors import InsufficientPoints
from domain.ledger import Lot, Take, allocate
from domain.models import LedgerRecord
from domain.ports import AccountFigures, Credit, MemberAccount, Posted, Posting
from domain.receipts import MemberKey
from storage.aio import AsyncConnection
from storage.quick_reads import QuickRead
from storage.repositories.members import MEMBERS, NAMED, named_params, to_member
from storage.tables import (
    LOT_IS_OPEN,
    AccountRow,
    EntryRow,
    LotRow,
    MemberRow,
    RoundUpRow,
    TierCreditRow,
    TransactionRow,
)

ACCOUNTS = AccountRow.c
ADD_TO_BALANCE = (
    update(AccountRow)
    .where(ACCOUNTS.member_id == bindparam("member"))
    .values(balance=ACCOUNTS.balance + bindparam("delta"))
)
BALANCE = QuickRead(select(ACCOUNTS.balance).where(ACCOUNTS.member_id == bindparam("member")))
LOTS = LotRow.c
CREDITS = TierCreditRow.c
EXPIRING = (
    LOTS.member_id == bindparam("member"),
    LOT_IS_OPEN,
    LOTS.expires_at <= bindparam("expiring_by"),
)
WINDOW_CREDITS = (  # an account's tier credits after :credits_since
    select(func.coalesce(func.sum(CREDITS.credits), 0))
    .where(
        CREDITS.member_id == ACCOUNTS.member_id, CREDITS.occurred_at > bindparam("credits_since")
    )
    .scalar_subquery()
)
LOCK_ACCOUNTS = (
    select(
        MemberRow,
        ACCOUNTS.balance.label("account_balance"),
        WINDOW_CREDITS.label("window_credits"),
        select(RoundUpRow.c.cause_id)
        .where(RoundUpRow.c.member_id == MEMBERS.id)
        .scalar_subquery()
        .label("round_up_cause"),
    )
    .join(AccountRow, ACCOUNTS.member_id == MEMBERS.id)
    .where(*NAMED)
    .order_by(MEMBERS.id)
    .with_for_update()
)
INSERT_RETURNING_ORDERED = {
    table: insert(table).returning(table.c.id, sort_by_parameter_order=True)
    for table in (TransactionRow, LotRow)
}
INSERT_RETURNING = {
    table: insert(table).returning(table.c.id) for table in (TransactionRow, LotRow)
}
FIGURES = QuickRead(  # a member and their balance screen's numbers in one statement
    select(
        MemberRow,
        func.coalesce(
            select(ACCOUNTS.balance)
            .where(ACCOUNTS.member_id == bindparam("member"))
            .scalar_subquery(),
            0,
        ).label("figure_balance"),
        select(func.coalesce(func.sum(CREDITS.credits), 0))
        .where(
            CREDITS.member_id == bindparam("member"),
            CREDITS.occurred_at > bindparam("credits_since"),
        )
        .scalar_subquery()
        .label("figure_credits"),
        select(func.coalesce(func.sum(LOTS.remaining), 0))
        .where(*EXPIRING)
        .scalar_subquery()
        .label("figure_expiring"),
        select(func.min(LOTS.expires_at))
        .where(*EXPIRING)
        .scalar_subquery()
        .label("figure_expiring_first"),
    ).where(MEMBERS.id == bindparam("member"))
)


def _transaction_values(posting: Posting, points: int) -> dict[str, object]:
    """A ledger transaction's row for `posting` moving `points`."""
    return {
        "member_id": posting.member_id,
        "kind": posting.kind.value,
        "points": points,
        "reason": posting.reason,
        "actor": posting.actor,
        "reference": posting.reference,
        "created_at": posting.at,
    }


def _lot_values(
    posting: Posting, transaction_id: int, points: int, expires_at: datetime
) -> dict[str, object]:
    """A new lot's row: `points` earned by `posting`, all of them remaining."""
    return {
        "member_id": posting.member_id,
        "transaction_id": transaction_id,
        "points": points,
        "remaining": points,
        "earned_at": posting.at,
        "expires_at": expires_at,
    }


class SqlLedger:
    """Implements `domain.ports.LedgerRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def balance(self, member_id: int) -> int:
        row = await BALANCE.first(self.conn, {"member": member_id})
        return int(row.balance) if row is not None else 0

    async def credit(self, posting: Posting, points: int, expires_at: datetime) -> Posted:
        """Add `points` as a new lot expiring at `expires_at`."""
        if points <= 0:
            raise ValueError(f"credit needs a positive amount, got {points}")
        transaction_id = await self._transaction(posting, points)
        lot_id = (
            await self.conn.execute(
                insert(LotRow)
                .values(_lot_values(posting, transaction_id, points, expires_at))
                .returning(LotRow.c.id)
            )
        ).scalar_one()
        await self.conn.execute(
            insert(EntryRow).values(
                transaction_id=transaction_id,
                member_id=posting.member_id,
                lot_id=lot_id,
                points=points,
            )
        )
        balance = await self._move_balance(posting.member_id, points)
        assert balance is not None, f"member {posting.member_id} has no account"
        return Posted(transaction_id, lot_id, balance)

    async def debit(
        self, posting: Posting, points: int, prefer_lot_id: int | None = None
    ) -> Posted:
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
            select(LotRow.c.id, LotRow.c.remaining, LotRow.c.expires_at)
            .where(LotRow.c.member_id == member_id, LOT_IS_OPEN)
            .order_by(LotRow.c.expires_at, LotRow.c.id)
        )
        return [Lot(*row) for row in (await self.conn.execute(statement)).all()]

    async def figures(
        self, member_id: int, credits_since: datetime, expiring_by: datetime
    ) -> AccountFigures | None:
        """The member, balance, tier credits and soon-expiring points in one statement."""
        row = await FIGURES.first(
            self.conn,
            {"member": member_id, "credits_since": credits_since, "expiring_by": expiring_by},
        )
        if row is None:
            return None
        return AccountFigures(
            to_member(row),
            int(row.figure_balance),
            int(row.figure_credits),
            int(row.figure_expiring),
            row.figure_expiring_first,
        )

    async def due_lots(self, now: datetime, limit: int) -> Sequence[tuple[int, Lot]]:
        """Open lots whose expiry has come, oldest first, with their member ids."""
        statement = (
            select(LotRow.c.member_id, LotRow.c.id, LotRow.c.remaining, LotRow.c.expires_at)
            .where(LOT_IS_OPEN, LotRow.c.expires_at <= now)
            .order_by(LotRow.c.expires_at, LotRow.c.id)
            .limit(limit)
        )
        rows = (await self.conn.execute(statement)).all()
        return [
            (member_id, Lot(lot_id, remaining, expires))
            for member_id, lot_id, remaining, expires in rows
        ]

    async def expire_lot(self, posting: Posting, lot: Lot) -> int:
        """Expire what is left of a lot, re-read under the account lock so no spend races it.

        Returns the points expired.
        """
        await self.conn.execute(
            select(AccountRow.c.balance)
            .where(AccountRow.c.member_id == posting.member_id)
            .with_for_update()
        )
        remaining = (
            await self.conn.execute(select(LotRow.c.remaining).where(LotRow.c.id == lot.id))
        ).scalar_one()
        if remaining == 0:
            return 0
        transaction_id = await self._transaction(posting, -remaining)
        await self._consume(posting.member_id, transaction_id, [Take(lot.id, remaining)])
        await self._move_balance(posting.member_id, -remaining)
        return int(remaining)

    async def history(self, member_id: int, limit: int, offset: int) -> Sequence[LedgerRecord]:
        """Ledger transactions, newest first by their date (a receipt's is when it happened,
        so one a till sent late takes its place among the others)."""
        statement = (
            select(
                TransactionRow.c.id,
                TransactionRow.c.kind,
                TransactionRow.c.points,
                TransactionRow.c.reason,
                TransactionRow.c.reference,
                TransactionRow.c.created_at,
            )
            .where(TransactionRow.c.member_id == member_id)
            .order_by(TransactionRow.c.created_at.desc(), TransactionRow.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [LedgerRecord(*row) for row in (await self.conn.execute(statement)).all()]

    async def count_transactions(self, member_id: int) -> int:
        statement = (
            select(func.count())
            .select_from(TransactionRow)
            .where(TransactionRow.c.member_id == member_id)
        )
        return (await self.conn.execute(statement)).scalar_one()

    async def lock_accounts(
        self, keys: Collection[MemberKey], credits_since: datetime
    ) -> Sequence[MemberAccount]:
        """The members `keys` name with their balances, tier credits after `credits_since`
        and round-up causes, in one read; members and accounts locked until commit, in id
        order (as a credit's update would lock an account)."""
        if not keys:
            return []
        rows = await self.conn.execute(
            LOCK_ACCOUNTS, {**named_params(keys), "credits_since": credits_since}
        )
        return [
            MemberAccount(
                to_member(row), row.account_balance, int(row.window_credits), row.round_up_cause
            )
            for row in rows
        ]

    async def credit_many(self, credits: Sequence[Credit]) -> list[int]:
        """`credit` for many postings, one statement per table; the lots' ids, in order."""
        if any(credit.points <= 0 for credit in credits):
            raise ValueError("credit needs a positive amount")
        if not credits:
            return []
        transaction_ids = await self._insert_ids(
            TransactionRow, [_transaction_values(c.posting, c.points) for c in credits]
        )
        lot_ids = await self._insert_ids(
            LotRow,
            [
                _lot_values(c.posting, transaction_id, c.points, c.expires_at)
                for c, transaction_id in zip(credits, transaction_ids, strict=True)
            ],
        )
        await self.conn.execute(
            insert(EntryRow),
            [
                {
                    "transaction_id": transaction_id,
                    "member_id": c.posting.member_id,
                    "lot_id": lot_id,
                    "points": c.points,
                }
                for c, transaction_id, lot_id in zip(credits, transaction_ids, lot_ids, strict=True)
            ],
        )
        deltas: Counter[int] = Counter()
        for credit in credits:
            deltas[credit.posting.member_id] += credit.points
        await self.conn.execute(
            ADD_TO_BALANCE,
            [{"member": member_id, "delta": delta} for member_id, delta in deltas.items()],
        )
        return lot_ids

    async def _insert_ids(self, table: Table, rows: list[dict[str, object]]) -> list[int]:
        """Insert `rows` in one statement; their new ids in the order of `rows`.

        SQLAlchemy cannot order a batch's RETURNING on SQLite and would send it a row at a
        time; unordered, it sends one statement. SQLite gives each new row the next rowid,
        so there the ids in ascending order are the rows' order.
        """
        if self.conn.dialect.name != "sqlite":
            ordered = INSERT_RETURNING_ORDERED[table]
            return list((await self.conn.execute(ordered, rows)).scalars())
        return sorted((await self.conn.execute(INSERT_RETURNING[table], rows)).scalars())

    async def _transaction(self, posting: Posting, points: int) -> int:
        statement = (
            insert(TransactionRow)
            .values(_transaction_values(posting, points))
            .returning(TransactionRow.c.id)
        )
        found: int = (await self.conn.execute(statement)).scalar_one()
        return found

    async def _consume(self, member_id: int, transaction_id: int, takes: Sequence[Take]) -> None:
        await self.conn.execute(
            insert(EntryRow),
            [
                {
                    "transaction_id": transaction_id,
                    "member_id": member_id,
                    "lot_id": take.lot_id,
                    "points": -take.points,
                }
                for take in takes
            ],
        )
        await self.conn.execute(
            update(LotRow)
            .where(LotRow.c.id == bindparam("lot"))
            .values(remaining=LotRow.c.remaining - bindparam("take")),
            [{"lot": take.lot_id, "take": take.points} for take in takes],
        )

    async def _move_balance(self, member_id: int, delta: int) -> int | None:
        """Change a balance by `delta` unless it would go below zero; the new balance, or None."""
        result = await self.conn.execute(
            update(AccountRow)
            .where(AccountRow.c.member_id == member_id, AccountRow.c.balance + delta >= 0)
            .values(balance=AccountRow.c.balance + delta)
            .returning(AccountRow.c.balance)
        )
        found: int | None = result.scalar_one_or_none()
        return found


class SqlTierCredits:
    """Implements `domain.ports.TierCreditRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, member_id: int, credits: int, occurred_at: datetime) -> None:
        if credits:
            await self.conn.execute(
                insert(TierCreditRow).values(
                    member_id=member_id, credits=credits, occurred_at=occurred_at
                )
            )

    async def add_many(self, credits: Sequence[tuple[int, int, datetime]]) -> None:
        """`add` for many (member id, credits, occurred at) in one executemany."""
        rows = [
            {"member_id": member_id, "credits": amount, "occurred_at": occurred_at}
            for member_id, amount, occurred_at in credits
            if amount
        ]
        if rows:
            await self.conn.execute(insert(TierCreditRow), rows)

    async def total_since(self, member_id: int, since: datetime) -> int:
        statement = select(func.coalesce(func.sum(TierCreditRow.c.credits), 0)).where(
            TierCreditRow.c.member_id == member_id, TierCreditRow.c.occurred_at > since
        )
        return int((await self.conn.execute(statement)).scalar_one())
