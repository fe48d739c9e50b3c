"""Read-only reads for the program simulator: receipts in pages, and the ledger's totals.

Receipts come ordered by member, then `occurred_at`, then id, a page at a time after a
keyset cursor, so a year of receipts never sits in memory at once. On PostgreSQL the
transaction's snapshot can be shared, so several processes replaying ranges of members read
the same data; on SQLite each reader has its own snapshot, taken when it starts.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.earning import PurchaseLine
from domain.ports import ReplayCursor, ReplayPage
from domain.simulation import LedgerFacts, MemberRange, ReplayReceipt
from storage.tables import AccountRow, MemberRow, PurchaseRow, TransactionRow

SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")  # pg_export_snapshot()'s form


class SqlReplay:
    """Implements `domain.ports.ReplayRepository`; it never writes."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    async def read_only(self, snapshot: str | None = None) -> None:
        """PostgreSQL: refuse any write in this transaction and read one snapshot throughout,
        `snapshot` (from `share_snapshot`) when given. SQLite's reader transaction already
        reads one snapshot of its own, and writes nothing here."""
        if self.dialect != "postgresql":
            return
        options = (
            self.conn.sync_connection.get_execution_options() if self.conn.sync_connection else {}
        )
        if options.get("isolation_level") == "AUTOCOMMIT":
            raise RuntimeError("a replay reads in a snapshot unit of work (snapshot=True)")
        await self.conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        if snapshot is not None:
            if not SNAPSHOT_ID.fullmatch(snapshot):
                raise ValueError(f"not a snapshot id: {snapshot!r}")
            await self.conn.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))

    async def share_snapshot(self) -> str | None:
        """The id other transactions can read this one's snapshot by (PostgreSQL; else None)."""
        if self.dialect != "postgresql":
            return None
        return str(await self.conn.scalar(text("SELECT pg_export_snapshot()")))

    async def member_span(self) -> MemberRange | None:
        """Member ids from the lowest to one past the highest; None without members."""
        low, high = (
            await self.conn.execute(select(func.min(MemberRow.id), func.max(MemberRow.id)))
        ).one()
        return None if low is None else (low, high + 1)

    async def receipts(
        self,
        since: datetime,
        until: datetime,
        after: ReplayCursor | None,
        limit: int,
        members: MemberRange | None = None,
    ) -> ReplayPage:
        statement = (
            select(
                PurchaseRow.id,
                PurchaseRow.member_id,
                PurchaseRow.occurred_at,
                PurchaseRow.recorded_at,
                PurchaseRow.lines,
                PurchaseRow.refunded,
                PurchaseRow.points_awarded,
                PurchaseRow.points_clawed,
            )
            .where(PurchaseRow.occurred_at >= since, PurchaseRow.occurred_at < until)
            .order_by(PurchaseRow.member_id, PurchaseRow.occurred_at, PurchaseRow.id)
            .limit(limit)
        )
        if members is not None:
            statement = statement.where(
                PurchaseRow.member_id >= members[0], PurchaseRow.member_id < members[1]
            )
        if after is not None:
            statement = statement.where(
                tuple_(PurchaseRow.member_id, PurchaseRow.occurred_at, PurchaseRow.id)
                > tuple_(*after)
            )
        rows = (await self.conn.execute(statement)).all()
        receipts = [
            ReplayReceipt(
                member_id=row.member_id,
                occurred_at=row.occurred_at,
                recorded_at=row.recorded_at,
                lines=tuple(
                    PurchaseLine(
                        str(line["sku"]),
                        str(line["category"]),
                        int(line["quantity"]),
                        Decimal(str(line["unit_price"])),
                    )
                    for line in row.lines["lines"]
                ),
                refunded=row.refunded,
                points_awarded=row.points_awarded - row.points_clawed,
            )
            for row in rows
        ]
        last = rows[-1] if len(rows) == limit else None
        return ReplayPage(
            receipts, None if last is None else (last.member_id, last.occurred_at, last.id)
        )

    async def facts(self, since: datetime, until: datetime) -> LedgerFacts:
        outstanding = await self.conn.scalar(select(func.coalesce(func.sum(AccountRow.balance), 0)))
        in_period = (TransactionRow.created_at >= since, TransactionRow.created_at < until)
        issued = await self.conn.scalar(
            select(func.coalesce(func.sum(TransactionRow.points), 0)).where(
                TransactionRow.points > 0, *in_period
            )
        )
        redeemed = await self.conn.scalar(
            select(func.coalesce(-func.sum(TransactionRow.points), 0)).where(
                TransactionRow.kind == "redemption", *in_period
            )
        )
        return LedgerFacts(int(outstanding or 0), int(issued or 0), int(redeemed or 0))

    async def member_count(self) -> int:
        return int(await self.conn.scalar(select(func.count()).select_from(MemberRow)) or 0)
