"""Reward stock (a counter per reward, taken with a conditional update) and vouchers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Row,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    union_all,
    update,
)

from domain.models import Voucher
from domain.ports import Shelf
from storage.aio import AsyncConnection
from storage.quick_reads import QuickRead
from storage.repositories.upsert import insert_ignoring_conflict
from storage.tables import AccountRow, RewardStockRow, VoucherRow

STOCK, VOUCHERS = RewardStockRow.c, VoucherRow.c
SHELF = QuickRead(  # (what, reward, count) rows, the balance's reward ''
    union_all(
        select(literal_column("'balance'"), literal_column("''"), AccountRow.c.balance).where(
            AccountRow.c.member_id == bindparam("member")
        ),
        select(literal_column("'issued'"), STOCK.reward_id, STOCK.issued),
        select(literal_column("'held'"), VOUCHERS.reward_id, func.count())
        .where(VOUCHERS.member_id == bindparam("member"))
        .group_by(VOUCHERS.reward_id),
    )
)


def to_voucher(row: Row[Any]) -> Voucher:
    """A row as the domain's record."""
    return Voucher(
        id=row.id,
        code=row.code,
        member_id=row.member_id,
        reward_id=row.reward_id,
        cost=row.cost,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        used_by=row.used_by,
        request_id=row.request_id,
    )


class SqlRewards:
    """Implements `domain.ports.RewardRepository`."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn, self.dialect = conn, dialect

    async def take_stock(self, reward_id: str, stock: int | None) -> bool:
        """Count one more issued; False when `stock` is already all issued."""
        await self.conn.execute(
            insert_ignoring_conflict(self.dialect, RewardStockRow, reward_id=reward_id, issued=0)
        )
        statement = update(RewardStockRow).where(RewardStockRow.c.reward_id == reward_id)
        if stock is not None:
            statement = statement.where(RewardStockRow.c.issued < stock)
        result = await self.conn.execute(statement.values(issued=RewardStockRow.c.issued + 1))
        assert isinstance(result, CursorResult)
        return result.rowcount == 1

    async def issued(self, reward_id: str) -> int:
        statement = select(RewardStockRow.c.issued).where(RewardStockRow.c.reward_id == reward_id)
        return (await self.conn.execute(statement)).scalar_one_or_none() or 0

    async def shelf(self, member_id: int) -> Shelf:
        """The member's balance, every reward's vouchers issued and the member's own."""
        counts: dict[str, dict[str, int]] = {"balance": {}, "issued": {}, "held": {}}
        for what, reward_id, count in await SHELF.all(self.conn, {"member": member_id}):
            counts[what][reward_id] = int(count)
        return Shelf(counts["balance"].get("", 0), counts["issued"], counts["held"])

    async def add_voucher(self, voucher: Voucher) -> Voucher:
        voucher_id = (
            await self.conn.execute(
                insert(VoucherRow)
                .values(
                    code=voucher.code,
                    member_id=voucher.member_id,
                    reward_id=voucher.reward_id,
                    cost=voucher.cost,
                    issued_at=voucher.issued_at,
                    expires_at=voucher.expires_at,
                    request_id=voucher.request_id,
                )
                .returning(VoucherRow.c.id)
            )
        ).scalar_one()
        stored = await self._one(VoucherRow.c.id == voucher_id)
        assert stored is not None
        return stored

    async def voucher_by_code(self, code: str) -> Voucher | None:
        return await self._one(VoucherRow.c.code == code)

    async def voucher_by_request(self, member_id: int, request_id: str) -> Voucher | None:
        return await self._one(
            VoucherRow.c.member_id == member_id, VoucherRow.c.request_id == request_id
        )

    async def count_vouchers(self, member_id: int, reward_id: str) -> int:
        statement = (
            select(func.count())
            .select_from(VoucherRow)
            .where(VoucherRow.c.member_id == member_id, VoucherRow.c.reward_id == reward_id)
        )
        return (await self.conn.execute(statement)).scalar_one()

    async def member_vouchers(self, member_id: int) -> Sequence[Voucher]:
        statement = (
            select(VoucherRow)
            .where(VoucherRow.c.member_id == member_id)
            .order_by(VoucherRow.c.id.desc())
        )
        return [to_voucher(row) for row in (await self.conn.execute(statement)).all()]

    async def mark_used(self, voucher_id: int, at: datetime, actor: str) -> bool:
        """Mark a voucher used unless it already is; False when someone was first."""
        result = await self.conn.execute(
            update(VoucherRow)
            .where(VoucherRow.c.id == voucher_id, VoucherRow.c.used_at.is_(None))
            .values(used_at=at, used_by=actor)
        )
        assert isinstance(result, CursorResult)
        return result.rowcount == 1

    async def _one(self, *where: ColumnElement[bool]) -> Voucher | None:
        row = (await self.conn.execute(select(VoucherRow).where(*where))).first()
        return None if row is None else to_voucher(row)
