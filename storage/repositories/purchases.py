"""Receipts, keyed by (merchant, receipt id), and their refunds."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.models import HeldPurchase, PurchaseRecord, RefundRecord
from domain.ports import NewPurchase
from storage.tables import HeldPurchaseRow, PurchaseRow, RefundRow


def to_purchase(row: Row[Any]) -> PurchaseRecord:
    """A row as the domain's record."""
    return PurchaseRecord(
        id=row.id, merchant=row.merchant, receipt_id=row.receipt_id, member_id=row.member_id,
        body_hash=row.body_hash, total=row.total, points_awarded=row.points_awarded,
        tier_credits=row.tier_credits, refunded=row.refunded, points_clawed=row.points_clawed,
        credits_clawed=row.credits_clawed, lot_id=row.lot_id, occurred_at=row.occurred_at,
        answer=row.answer,
    )


def to_refund(row: Row[Any]) -> RefundRecord:
    """A row as the domain's record."""
    return RefundRecord(
        id=row.id, purchase_id=row.purchase_id, refund_id=row.refund_id, amount=row.amount,
        points_clawed=row.points_clawed, points_shortfall=row.points_shortfall,
        credits_clawed=row.credits_clawed, created_at=row.created_at,
    )


def _purchase_values(record: PurchaseRecord, recorded_at: datetime, store: str | None,
                     lines: list[dict[str, str | int]]) -> dict[str, object]:
    """A new receipt's row."""
    return {"merchant": record.merchant, "receipt_id": record.receipt_id,
            "member_id": record.member_id, "body_hash": record.body_hash, "total": record.total,
            "points_awarded": record.points_awarded, "tier_credits": record.tier_credits,
            "lot_id": record.lot_id, "store": store, "lines": {"lines": lines},
            "answer": record.answer, "occurred_at": record.occurred_at,
            "recorded_at": recorded_at}


class SqlPurchases:
    """Implements `domain.ports.PurchaseRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, merchant: str, receipt_id: str) -> PurchaseRecord | None:
        statement = select(PurchaseRow).where(
            PurchaseRow.merchant == merchant, PurchaseRow.receipt_id == receipt_id
        )
        row = (await self.conn.execute(statement)).first()
        return None if row is None else to_purchase(row)

    async def add(self, record: PurchaseRecord, recorded_at: datetime, store: str | None,
                  lines: list[dict[str, str | int]]) -> int:
        """Insert a receipt; a concurrent twin fails here on the unique receipt key."""
        statement = insert(PurchaseRow).values(
            _purchase_values(record, recorded_at, store, lines)).returning(PurchaseRow.id)
        return (await self.conn.execute(statement)).scalar_one()

    async def add_many(self, purchases: Sequence[NewPurchase], recorded_at: datetime) -> None:
        """`add` for many receipts in one executemany (a recorded one fails it all)."""
        if purchases:
            await self.conn.execute(insert(PurchaseRow), [
                _purchase_values(p.record, recorded_at, p.store, p.lines) for p in purchases])

    async def by_receipts(self, merchant: str,
                          receipt_ids: Collection[str]) -> Sequence[PurchaseRecord]:
        """The receipts among `receipt_ids` recorded before, in one read."""
        statement = select(PurchaseRow).where(PurchaseRow.merchant == merchant,
                                              PurchaseRow.receipt_id.in_(receipt_ids))
        return [to_purchase(row) for row in (await self.conn.execute(statement)).all()]

    async def held_by_receipts(self, merchant: str,
                               receipt_ids: Collection[str]) -> Sequence[HeldPurchase]:
        """The receipts among `receipt_ids` held for a phone, in one read."""
        statement = select(HeldPurchaseRow).where(HeldPurchaseRow.merchant == merchant,
                                                  HeldPurchaseRow.receipt_id.in_(receipt_ids))
        return [to_held(row) for row in (await self.conn.execute(statement)).all()]

    async def refund_by_id(self, merchant: str, refund_id: str) -> RefundRecord | None:
        statement = select(RefundRow).where(
            RefundRow.merchant == merchant, RefundRow.refund_id == refund_id
        )
        row = (await self.conn.execute(statement)).first()
        return None if row is None else to_refund(row)

    async def add_refund(self, purchase: PurchaseRecord, refund: RefundRecord, merchant: str,
                         actor: str | None) -> int:
        """Record a refund and add it to the receipt's running totals."""
        refund_row_id = (
            await self.conn.execute(
                insert(RefundRow).values(
                    purchase_id=purchase.id, merchant=merchant, refund_id=refund.refund_id,
                    amount=refund.amount, points_clawed=refund.points_clawed,
                    points_shortfall=refund.points_shortfall,
                    credits_clawed=refund.credits_clawed, actor=actor,
                    created_at=refund.created_at,
                ).returning(RefundRow.id)
            )
        ).scalar_one()
        await self.conn.execute(
            update(PurchaseRow).where(PurchaseRow.id == purchase.id).values(
                refunded=PurchaseRow.refunded + refund.amount,
                points_clawed=PurchaseRow.points_clawed + refund.points_clawed
                + refund.points_shortfall,
                credits_clawed=PurchaseRow.credits_clawed + refund.credits_clawed,
            )
        )
        return refund_row_id

    async def count_for_member(self, member_id: int, since: datetime | None = None) -> int:
        statement = select(func.count()).select_from(PurchaseRow).where(
            PurchaseRow.member_id == member_id
        )
        if since is not None:
            statement = statement.where(PurchaseRow.occurred_at >= since)
        return (await self.conn.execute(statement)).scalar_one()

    async def hold(self, held: HeldPurchase, at: datetime) -> None:
        """Keep a receipt for a phone no member has; its key is unique like a purchase's."""
        await self.conn.execute(insert(HeldPurchaseRow).values(
            merchant=held.merchant, receipt_id=held.receipt_id, phone=held.phone,
            body_hash=held.body_hash, lines={"lines": held.lines}, store=held.store,
            occurred_at=held.occurred_at, held_at=at))

    async def held(self, merchant: str, receipt_id: str) -> HeldPurchase | None:
        row = (await self.conn.execute(select(HeldPurchaseRow).where(
            HeldPurchaseRow.merchant == merchant, HeldPurchaseRow.receipt_id == receipt_id,
        ))).first()
        return None if row is None else to_held(row)

    async def held_for_phone(self, phone: str) -> Sequence[HeldPurchase]:
        """Receipts still waiting for this phone, oldest first."""
        rows = (await self.conn.execute(select(HeldPurchaseRow).where(
            HeldPurchaseRow.phone == phone, HeldPurchaseRow.credited_at.is_(None),
        ).order_by(HeldPurchaseRow.id))).all()
        return [to_held(row) for row in rows]

    async def mark_credited(self, held_id: int, at: datetime) -> None:
        await self.conn.execute(update(HeldPurchaseRow).where(HeldPurchaseRow.id == held_id)
                                .values(credited_at=at))


def to_held(row: Row[Any]) -> HeldPurchase:
    """A row as the domain's record."""
    return HeldPurchase(row.id, row.merchant, row.receipt_id, row.phone, row.body_hash,
                        list(row.lines["lines"]), row.store, row.occurred_at)
