"""Receipts, keyed by (merchant, receipt id), and their refunds."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Row,
    String,
    bindparam,
    insert,
    literal,
    null,
    select,
    union_all,
    update,
)

from domain.models import HeldPurchase, PurchaseRecord, RefundRecord
from domain.ports import NewPurchase, SeenReceipt
from storage.aio import AsyncConnection
from storage.tables import HeldPurchaseRow, PurchaseRow, RefundRow

HELD = HeldPurchaseRow.c
SEEN = union_all(  # receipts recorded, or held and not credited yet (else recorded now)
    select(
        PurchaseRow.c.receipt_id,
        PurchaseRow.c.body_hash,
        PurchaseRow.c.answer,
        PurchaseRow.c.member_id,
        literal(None, String).label("phone"),
    ).where(
        PurchaseRow.c.merchant == bindparam("merchant"),
        PurchaseRow.c.receipt_id.in_(bindparam("ids", expanding=True)),
    ),
    select(
        HeldPurchaseRow.c.receipt_id,
        HeldPurchaseRow.c.body_hash,
        null().cast(JSON).label("answer"),
        literal(None).label("member_id"),
        HeldPurchaseRow.c.phone,
    ).where(
        HeldPurchaseRow.c.merchant == bindparam("merchant"),
        HeldPurchaseRow.c.receipt_id.in_(bindparam("ids", expanding=True)),
        HeldPurchaseRow.c.credited_at.is_(None),
    ),
)
# PostgreSQL plans `SEEN` for its ids (see `seen`). If `SEEN` fails in a transaction, the
# rollback undoes the SET; in autocommit it stays, which costs that connection only planning.
CUSTOM_PLANS = "SET plan_cache_mode = force_custom_plan"
DEFAULT_PLANS = "RESET plan_cache_mode"
MARK_CREDITED = (
    update(HeldPurchaseRow).where(HELD.id == bindparam("held")).values(credited_at=bindparam("at"))
)


def to_purchase(row: Row[Any]) -> PurchaseRecord:
    """A row as the domain's record."""
    return PurchaseRecord(
        id=row.id,
        merchant=row.merchant,
        receipt_id=row.receipt_id,
        member_id=row.member_id,
        body_hash=row.body_hash,
        total=row.total,
        points_awarded=row.points_awarded,
        tier_credits=row.tier_credits,
        refunded=row.refunded,
        points_clawed=row.points_clawed,
        credits_clawed=row.credits_clawed,
        lot_id=row.lot_id,
        occurred_at=row.occurred_at,
        answer=row.answer,
    )


def to_refund(row: Row[Any]) -> RefundRecord:
    """A row as the domain's record."""
    return RefundRecord(
        id=row.id,
        purchase_id=row.purchase_id,
        refund_id=row.refund_id,
        amount=row.amount,
        points_clawed=row.points_clawed,
        points_shortfall=row.points_shortfall,
        credits_clawed=row.credits_clawed,
        created_at=row.created_at,
    )


def _purchase_values(
    record: PurchaseRecord,
    recorded_at: datetime,
    store: str | None,
    lines: list[dict[str, str | int]],
) -> dict[str, object]:
    """A new receipt's row."""
    return {
        "merchant": record.merchant,
        "receipt_id": record.receipt_id,
        "member_id": record.member_id,
        "body_hash": record.body_hash,
        "total": record.total,
        "points_awarded": record.points_awarded,
        "tier_credits": record.tier_credits,
        "lot_id": record.lot_id,
        "store": store,
        "lines": {"lines": lines},
        "answer": record.answer,
        "occurred_at": record.occurred_at,
        "recorded_at": recorded_at,
    }


class SqlPurchases:
    """Implements `domain.ports.PurchaseRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, merchant: str, receipt_id: str) -> PurchaseRecord | None:
        statement = select(PurchaseRow).where(
            PurchaseRow.c.merchant == merchant, PurchaseRow.c.receipt_id == receipt_id
        )
        row = (await self.conn.execute(statement)).first()
        return None if row is None else to_purchase(row)

    async def add_many(self, purchases: Sequence[NewPurchase], recorded_at: datetime) -> None:
        """Insert receipts in one executemany; a receipt recorded meanwhile (a concurrent
        twin) fails them all on the unique receipt key."""
        if purchases:
            await self.conn.execute(
                insert(PurchaseRow),
                [_purchase_values(p.record, recorded_at, p.store, p.lines) for p in purchases],
            )

    async def seen(self, merchant: str, receipt_ids: Collection[str]) -> Sequence[SeenReceipt]:
        """The receipts among `receipt_ids` recorded, or held and not credited yet, in one
        read.

        On PostgreSQL this read is planned for its ids each time. After five runs of one
        prepared statement (a till's or an import's batches of one size) PostgreSQL may keep
        a generic plan, and one made while the receipts looked few (a new database, before
        its first ANALYZE) finds the merchant's receipts by the merchant alone and filters
        every one: 30 ms a call at 12,000 receipts, growing with the table.
        """
        if not receipt_ids:
            return []
        params = {"merchant": merchant, "ids": list(receipt_ids)}
        if self.conn.dialect.name != "postgresql":
            return [SeenReceipt(*row) for row in await self.conn.execute(SEEN, params)]
        await self.conn.exec_driver_sql(CUSTOM_PLANS)
        rows = (await self.conn.execute(SEEN, params)).all()
        await self.conn.exec_driver_sql(DEFAULT_PLANS)
        return [SeenReceipt(*row) for row in rows]

    async def refund_by_id(self, merchant: str, refund_id: str) -> RefundRecord | None:
        statement = select(RefundRow).where(
            RefundRow.c.merchant == merchant, RefundRow.c.refund_id == refund_id
        )
        row = (await self.conn.execute(statement)).first()
        return None if row is None else to_refund(row)

    async def add_refund(
        self, purchase: PurchaseRecord, refund: RefundRecord, merchant: str, actor: str | None
    ) -> int:
        """Record a refund and add it to the receipt's running totals."""
        refund_row_id: int = (
            await self.conn.execute(
                insert(RefundRow)
                .values(
                    purchase_id=purchase.id,
                    merchant=merchant,
                    refund_id=refund.refund_id,
                    amount=refund.amount,
                    points_clawed=refund.points_clawed,
                    points_shortfall=refund.points_shortfall,
                    credits_clawed=refund.credits_clawed,
                    actor=actor,
                    created_at=refund.created_at,
                )
                .returning(RefundRow.c.id)
            )
        ).scalar_one()
        await self.conn.execute(
            update(PurchaseRow)
            .where(PurchaseRow.c.id == purchase.id)
            .values(
                refunded=PurchaseRow.c.refunded + refund.amount,
                points_clawed=PurchaseRow.c.points_clawed
                + refund.points_clawed
                + refund.points_shortfall,
                credits_clawed=PurchaseRow.c.credits_clawed + refund.credits_clawed,
            )
        )
        return refund_row_id

    async def hold(self, held: Sequence[HeldPurchase], at: datetime) -> None:
        """Keep receipts for phones no member has; their key is unique like a purchase's."""
        if held:
            await self.conn.execute(
                insert(HeldPurchaseRow),
                [
                    {
                        "merchant": h.merchant,
                        "receipt_id": h.receipt_id,
                        "phone": h.phone,
                        "body_hash": h.body_hash,
                        "lines": {"lines": h.lines},
                        "store": h.store,
                        "occurred_at": h.occurred_at,
                        "held_at": at,
                    }
                    for h in held
                ],
            )

    async def held_for_phone(self, phone: str) -> Sequence[HeldPurchase]:
        """Receipts still waiting for this phone, oldest first."""
        rows = (
            await self.conn.execute(
                select(HeldPurchaseRow)
                .where(
                    HeldPurchaseRow.c.phone == phone,
                    HeldPurchaseRow.c.credited_at.is_(None),
                )
                .order_by(HeldPurchaseRow.c.id)
            )
        ).all()
        return [to_held(row) for row in rows]

    async def mark_credited(self, held_ids: Sequence[int], at: datetime) -> None:
        """Mark held receipts credited to the member who shared their phone."""
        if held_ids:
            await self.conn.execute(
                MARK_CREDITED, [{"held": held_id, "at": at} for held_id in held_ids]
            )


def to_held(row: Row[Any]) -> HeldPurchase:
    """A row as the domain's record."""
    return HeldPurchase(
        row.id,
        row.merchant,
        row.receipt_id,
        row.phone,
        row.body_hash,
        list(row.lines["lines"]),
        row.store,
        row.occurred_at,
    )
