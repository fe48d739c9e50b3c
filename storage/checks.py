"""Invariants of a live database, checked with a few grouped queries (`loyalty-bot db check`).

For every member: balance = sum of entries = sum of open lots, nothing negative; each lot
holds exactly its entries; each transaction equals its entries; reward stock and cause
totals agree with the vouchers and donations behind them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, literal, select, union_all

from storage.aio import AsyncConnection
from storage.database import Database
from storage.tables import (
    AccountRow,
    CauseTotalRow,
    DonationRow,
    EntryRow,
    LotRow,
    RewardStockRow,
    TransactionRow,
    VoucherRow,
)


@dataclass(frozen=True)
class Drift:
    """One invariant broken: which rule, for which key, and the two numbers that differ."""

    rule: str
    key: str
    expected: int
    found: int

    def __str__(self) -> str:
        return f"{self.rule} [{self.key}]: expected {self.expected}, found {self.found}"


def _sum_by(key: Any, value: Any) -> Select[Any, Any]:
    return select(key, func.sum(value)).group_by(key)


async def _compare(
    conn: AsyncConnection, rule: str, expected: Select[Any, Any], found: Select[Any, Any]
) -> list[Drift]:
    """Drift wherever two per-key totals differ (a key missing on one side counts 0)."""
    left = {k: int(v or 0) for k, v in (await conn.execute(expected)).all()}
    right = {k: int(v or 0) for k, v in (await conn.execute(found)).all()}
    return [
        Drift(rule, str(k), left.get(k, 0), right.get(k, 0))
        for k in sorted(set(left) | set(right), key=str)
        if left.get(k, 0) != right.get(k, 0)
    ]


async def _negatives(conn: AsyncConnection) -> list[Drift]:
    checks = union_all(
        select(literal("negative balance"), AccountRow.c.member_id, AccountRow.c.balance).where(
            AccountRow.c.balance < 0
        ),
        select(literal("negative lot"), LotRow.c.id, LotRow.c.remaining).where(
            LotRow.c.remaining < 0
        ),
        select(literal("lot above its points"), LotRow.c.id, LotRow.c.remaining).where(
            LotRow.c.remaining > LotRow.c.points
        ),
    )
    return [
        Drift(rule, str(key), 0, int(value))
        for rule, key, value in (await conn.execute(checks)).all()
    ]


async def check_invariants(database: Database) -> list[Drift]:
    """Every drift found; an empty list means the books balance."""
    balances = select(AccountRow.c.member_id, AccountRow.c.balance)
    async with database.reader.connect() as conn:
        drifts = await _negatives(conn)
        drifts += await _compare(
            conn,
            "balance = sum of entries",
            balances,
            _sum_by(EntryRow.c.member_id, EntryRow.c.points),
        )
        drifts += await _compare(
            conn,
            "balance = sum of open lots",
            balances,
            _sum_by(LotRow.c.member_id, LotRow.c.remaining),
        )
        drifts += await _compare(
            conn,
            "lot = sum of its entries",
            select(LotRow.c.id, LotRow.c.remaining),
            _sum_by(EntryRow.c.lot_id, EntryRow.c.points),
        )
        drifts += await _compare(
            conn,
            "transaction = sum of its entries",
            select(TransactionRow.c.id, TransactionRow.c.points),
            _sum_by(EntryRow.c.transaction_id, EntryRow.c.points),
        )
        drifts += await _compare(
            conn,
            "reward stock = vouchers issued",
            select(RewardStockRow.c.reward_id, RewardStockRow.c.issued),
            select(VoucherRow.c.reward_id, func.count()).group_by(VoucherRow.c.reward_id),
        )
        drifts += await _compare(
            conn,
            "cause total = sum of donations",
            select(CauseTotalRow.c.cause_id, CauseTotalRow.c.points),
            _sum_by(DonationRow.c.cause_id, DonationRow.c.points),
        )
        drifts += await _compare(
            conn,
            "donation = its ledger transaction",
            select(DonationRow.c.transaction_id, DonationRow.c.points),
            select(TransactionRow.c.id, -TransactionRow.c.points).where(
                TransactionRow.c.kind == "donation"
            ),
        )
    return drifts
