"""Invariants of a live database, checked with a few grouped queries (`loyalty-bot db check`).

For every member: balance = sum of entries = sum of open lots, nothing negative; each lot
holds exactly its entries; each transaction equals its entries; reward stock and cause
totals agree with the vouchers and donations behind them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

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
        select(literal("negative balance"), AccountRow.member_id, AccountRow.balance).where(
            AccountRow.balance < 0
        ),
        select(literal("negative lot"), LotRow.id, LotRow.remaining).where(LotRow.remaining < 0),
        select(literal("lot above its points"), LotRow.id, LotRow.remaining).where(
            LotRow.remaining > LotRow.points
        ),
    )
    return [
        Drift(rule, str(key), 0, int(value))
        for rule, key, value in (await conn.execute(checks)).all()
    ]


async def check_invariants(database: Database) -> list[Drift]:
    """Every drift found; an empty list means the books balance."""
    balances = select(AccountRow.member_id, AccountRow.balance)
    async with database.reader.connect() as conn:
        drifts = await _negatives(conn)
        drifts += await _compare(
            conn, "balance = sum of entries", balances, _sum_by(EntryRow.member_id, EntryRow.points)
        )
        drifts += await _compare(
            conn,
            "balance = sum of open lots",
            balances,
            _sum_by(LotRow.member_id, LotRow.remaining),
        )
        drifts += await _compare(
            conn,
            "lot = sum of its entries",
            select(LotRow.id, LotRow.remaining),
            _sum_by(EntryRow.lot_id, EntryRow.points),
        )
        drifts += await _compare(
            conn,
            "transaction = sum of its entries",
            select(TransactionRow.id, TransactionRow.points),
            _sum_by(EntryRow.transaction_id, EntryRow.points),
        )
        drifts += await _compare(
            conn,
            "reward stock = vouchers issued",
            select(RewardStockRow.reward_id, RewardStockRow.issued),
            select(VoucherRow.reward_id, func.count()).group_by(VoucherRow.reward_id),
        )
        drifts += await _compare(
            conn,
            "cause total = sum of donations",
            select(CauseTotalRow.cause_id, CauseTotalRow.points),
            _sum_by(DonationRow.cause_id, DonationRow.points),
        )
        drifts += await _compare(
            conn,
            "donation = its ledger transaction",
            select(DonationRow.transaction_id, DonationRow.points),
            select(TransactionRow.id, -TransactionRow.points).where(
                TransactionRow.kind == "donation"
            ),
        )
    return drifts
