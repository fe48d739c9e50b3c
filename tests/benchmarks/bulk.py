"""Loading many members straight into the tables, in the state `join` would leave them.

Each member gets an account holding the signup bonus, backed by one signup transaction,
one lot and one entry, so the ledger invariants (`storage.checks`) hold after the load.
Rows are inserted with SQLAlchemy Core in batches, one transaction per batch.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, text

from domain.codes import ALPHABET, MEMBER_CODE_LENGTH
from domain.ledger import EntryKind, add_months
from domain.program import Program
from storage.database import Database
from storage.tables import metadata

BATCH = 5_000
TELEGRAM_ID_BASE = 1_000_000_000
MEMBERS, ACCOUNTS, TRANSACTIONS, LOTS, ENTRIES = (
    metadata.tables[name]
    for name in ("members", "accounts", "point_transactions", "point_lots", "point_entries")
)

Rows = list[dict[str, Any]]


def member_code(member_id: int) -> str:
    """The member code of bulk-loaded member `member_id`: its id in the code alphabet."""
    digits = []
    for _ in range(MEMBER_CODE_LENGTH):
        member_id, digit = divmod(member_id, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


async def create_schema(database: Database) -> None:
    """Create every table of `storage.tables` in an empty database."""
    async with database.writer.begin() as conn:
        await conn.run_sync(metadata.create_all)


def _member_rows(ids: range, tier: str, now: datetime) -> list[tuple[Table, Rows]]:
    members = [
        {
            "id": i,
            "code": member_code(i),
            "telegram_id": TELEGRAM_ID_BASE + i,
            "first_name": f"Bench {i}",
            "locale": "en",
            "marketing_opt_in": True,
            "reachable": True,
            "joined_at": now,
            "tier": tier,
        }
        for i in ids
    ]
    return [(MEMBERS, members)]


def _ledger_rows(
    ids: range, bonus: int, now: datetime, expires: datetime
) -> list[tuple[Table, Rows]]:
    """Account, signup transaction, lot and entry per member; ids equal the member id."""
    return [
        (ACCOUNTS, [{"member_id": i, "balance": bonus} for i in ids]),
        (
            TRANSACTIONS,
            [
                {
                    "id": i,
                    "member_id": i,
                    "kind": EntryKind.SIGNUP.value,
                    "points": bonus,
                    "created_at": now,
                }
                for i in ids
            ],
        ),
        (
            LOTS,
            [
                {
                    "id": i,
                    "member_id": i,
                    "transaction_id": i,
                    "points": bonus,
                    "remaining": bonus,
                    "earned_at": now,
                    "expires_at": expires,
                }
                for i in ids
            ],
        ),
        (
            ENTRIES,
            [
                {"id": i, "transaction_id": i, "member_id": i, "lot_id": i, "points": bonus}
                for i in ids
            ],
        ),
    ]


async def _after_load(database: Database, count: int) -> None:
    """On PostgreSQL, move the id sequences past the loaded ids and gather statistics."""
    if database.dialect != "postgresql":
        return
    async with database.writer.begin() as conn:
        for table in (MEMBERS, TRANSACTIONS, LOTS, ENTRIES):
            await conn.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), :n)"),
                {"n": count},
            )
        await conn.execute(text("ANALYZE"))


async def bulk_load(
    database: Database, program: Program, count: int, now: datetime, batch: int = BATCH
) -> float:
    """Insert members 1..count with their signup bonus; returns the seconds it took."""
    started = time.perf_counter()
    bonus = program.info.signup_bonus
    expires = add_months(now, program.expiry.months)
    tier = program.tiers.levels[0].name
    for first in range(1, count + 1, batch):
        ids = range(first, min(first + batch, count + 1))
        tables = _member_rows(ids, tier, now)
        if bonus:
            tables += _ledger_rows(ids, bonus, now, expires)
        else:
            tables.append((ACCOUNTS, [{"member_id": i, "balance": 0} for i in ids]))
        async with database.writer.begin() as conn:
            for table, rows in tables:
                await conn.execute(insert(table), rows)
    await _after_load(database, count)
    return time.perf_counter() - started
