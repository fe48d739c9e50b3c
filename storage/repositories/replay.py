"""Read-only reads for the program simulator: receipts in pages, and the ledger's totals.

Receipts come ordered by member, then `occurred_at`, then id, a page at a time after a
keyset cursor, so a year of receipts never sits in memory at once. On PostgreSQL the
transaction's snapshot can be shared, so several processes replaying ranges of members read
the same data; on SQLite each reader has its own snapshot, taken when it starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, func, select, text, tuple_, type_coerce
from sqlalchemy.types import NullType

from domain.earning import PurchaseLine
from domain.ports import ReplayCursor, ReplayPage
from domain.simulation import LedgerFacts, MemberRange, ReplayReceipt
from storage.aio import AsyncConnection
from storage.tables import AccountRow, MemberRow, PurchaseRow, TransactionRow
from storage.types import money, utc

SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")  # pg_export_snapshot()'s form
# Dates, lines and money are read without SQLAlchemy's per-row type processing, as the
# driver gives them, and converted in `_receipt` by the columns' own rules (`storage.types`)
_RAW = NullType()


def _same(value: Any) -> Any:
    """A driver value that needs no conversion."""
    return value


class SqlReplay:
    """Implements `domain.ports.ReplayRepository`; it never writes."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect
        # the drivers' own values of dates and lines: SQLite gives text, asyncpg naive
        # datetimes and decoded JSON (the codec SQLAlchemy gives it)
        sqlite = dialect == "sqlite"
        self._moment: Callable[[Any], datetime] = datetime.fromisoformat if sqlite else _same
        self._document: Callable[[Any], Any] = json.loads if sqlite else _same

    async def read_only(self, snapshot: str | None = None) -> None:
        """PostgreSQL: refuse any write in this transaction and read one snapshot throughout,
        `snapshot` (from `share_snapshot`) when given. SQLite's reader transaction already
        reads one snapshot of its own, and writes nothing here; its pages are read on the
        event loop's thread to their end (`InlineConnection.unhurried`): the simulator has
        nothing else on its loop."""
        if self.dialect != "postgresql":
            from storage.inline_sqlite import InlineConnection  # SQLite's driver: SQLite only

            driver = (await self.conn.get_raw_connection()).dbapi_connection
            if isinstance(driver, InlineConnection):
                driver.unhurried()
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
            await self.conn.execute(select(func.min(MemberRow.c.id), func.max(MemberRow.c.id)))
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
                PurchaseRow.c.id,
                PurchaseRow.c.member_id,
                type_coerce(PurchaseRow.c.occurred_at, _RAW),
                type_coerce(PurchaseRow.c.recorded_at, _RAW),
                type_coerce(PurchaseRow.c.lines, _RAW),
                type_coerce(PurchaseRow.c.refunded, BigInteger),
                PurchaseRow.c.points_awarded - PurchaseRow.c.points_clawed,
            )
            .where(PurchaseRow.c.occurred_at >= since, PurchaseRow.c.occurred_at < until)
            .order_by(PurchaseRow.c.member_id, PurchaseRow.c.occurred_at, PurchaseRow.c.id)
            .limit(limit)
        )
        if members is not None:
            statement = statement.where(PurchaseRow.c.member_id < members[1])
            if after is None:  # after the first page the cursor is the lower bound: with
                # the range's start beside it, SQLite began every page's index search at the
                # range's start, so a range's pages read its index quadratically
                statement = statement.where(PurchaseRow.c.member_id >= members[0])
        if after is not None:
            statement = statement.where(
                tuple_(PurchaseRow.c.member_id, PurchaseRow.c.occurred_at, PurchaseRow.c.id)
                > tuple_(*after)
            )
        rows = (await self.conn.execute(statement)).all()
        receipts = [self._receipt(*row) for row in rows]
        last = rows[-1] if len(rows) == limit else None
        return ReplayPage(
            receipts, None if last is None else (last[1], receipts[-1].occurred_at, last[0])
        )

    def _receipt(
        self,
        _id: int,
        member_id: int,
        occurred_at: Any,
        recorded_at: Any,
        lines: Any,
        refunded: int,
        net: int,
    ) -> ReplayReceipt:
        """A receipt from a row of the driver's own values."""
        moment, document = self._moment, self._document
        return ReplayReceipt(
            member_id,
            utc(moment(occurred_at)),
            utc(moment(recorded_at)),
            tuple(
                PurchaseLine(
                    str(line["sku"]),
                    str(line["category"]),
                    int(line["quantity"]),
                    Decimal(str(line["unit_price"])),
                )
                for line in document(lines)["lines"]
            ),
            money(refunded),
            net,
        )

    async def facts(self, since: datetime, until: datetime) -> LedgerFacts:
        outstanding = await self.conn.scalar(
            select(func.coalesce(func.sum(AccountRow.c.balance), 0))
        )
        in_period = (TransactionRow.c.created_at >= since, TransactionRow.c.created_at < until)
        issued = await self.conn.scalar(
            select(func.coalesce(func.sum(TransactionRow.c.points), 0)).where(
                TransactionRow.c.points > 0, *in_period
            )
        )
        redeemed = await self.conn.scalar(
            select(func.coalesce(-func.sum(TransactionRow.c.points), 0)).where(
                TransactionRow.c.kind == "redemption", *in_period
            )
        )
        return LedgerFacts(int(outstanding or 0), int(issued or 0), int(redeemed or 0))

    async def member_count(self) -> int:
        return int(await self.conn.scalar(select(func.count()).select_from(MemberRow)) or 0)
