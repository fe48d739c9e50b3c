"""The bulk `record_purchases` leaves every table as `record_purchase` one by one does.

The same members and the same receipts (repeated members within a chunk, tier crossings
and grace, zero-point receipts, late receipts dated and expiring by when they happened,
some too old to earn, a referral qualifying, replays, conflicting replays, duplicates
within the batch, held and refused receipts) go through both paths into a
fresh database each; every table is compared row for row, with surrogate ids replaced
by their rank so foreign keys are compared too.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import importer
from bot.importer import import_purchases
from domain.errors import DuplicateKey, LoyaltyError
from domain.program import Program
from domain.services import forgetting
from domain.services.members import forget, update_settings
from domain.services.purchase_batch import record_purchases
from domain.services.purchases import MemberRef, PurchaseOutcome, ReceiptIn, record_purchase
from storage.checks import check_invariants
from storage.database import Database
from storage.tables import Base
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.integration.helpers import line, new_member, reset

Outcome = PurchaseOutcome | tuple[str, str]
Tables = dict[str, list[tuple[Any, ...]]]
CATALOG = [("LATTE", "coffee", "4.50"), ("BEANS-1KG", "coffee", "18.00"),
           ("SNEAKER", "shoes", "100.00"), ("GIFTCARD", "gift_cards", "50.00"),
           ("WATER", "misc", "0"), ("TV", "electronics", "420.00")]
PHONE = "+15550001234"
UNKNOWN_PHONE = "+15559990000"


async def setup(uow: SqlUnitOfWork, program: Program) -> list[MemberRef]:
    """Members in every situation (the last one in grace below their tier), and receipts
    recorded or held before the batch."""
    members = [await new_member(uow, program, n) for n in range(1, 6)]
    await update_settings(uow, members[1].id, phone=PHONE)
    assert members[0].code is not None
    invited = await new_member(uow, program, 6, referral_code=members[0].code)
    graced = await new_member(uow, program, 7, now=NOW - timedelta(days=400))
    gone = await new_member(uow, program, 8)
    past = NOW - timedelta(days=400)  # silver then; its credits have left the window now
    await record_purchase(uow, program, merchant="main", receipt_id="OLD-1",
                          member=code_ref(graced.code), lines=[line("TV", "electronics", 2,
                                                                    "420.00")], now=past)
    await forget(uow, gone.id, NOW)
    refs = [code_ref(m.code) for m in [*members, invited]]
    refs += [MemberRef("telegram_id", "2"), MemberRef("phone", PHONE),
             MemberRef("telegram_id", "8")]  # the forgotten member: refused
    for receipt in [ReceiptIn("SEEN-1", refs[0], [line("LATTE", "coffee", 2, "4.50")]),
                    ReceiptIn("SEEN-2", refs[2], [line("LATTE", "coffee", 1, "4.50")]),
                    ReceiptIn("HELD-1", MemberRef("phone", UNKNOWN_PHONE),
                              [line("LATTE", "coffee", 1, "4.50")])]:
        await record_purchase(uow, program, merchant="main", receipt_id=receipt.receipt_id,
                              member=receipt.member, lines=receipt.lines, now=NOW)
    return [*refs, code_ref(graced.code)]


def code_ref(code: str | None) -> MemberRef:
    assert code is not None
    return MemberRef("member_code", code)


def batch(refs: Sequence[MemberRef], count: int = 60) -> list[ReceiptIn]:
    """Random receipts of `refs` but the last, then every special case the batch must answer
    alike."""
    rng = random.Random(11)
    *refs, graced = refs
    receipts = []
    for number in range(count):
        lines = [line(sku, category, rng.randint(1, 3), price)
                 for sku, category, price in rng.sample(CATALOG, rng.randint(1, 3))]
        when = None if number % 3 else NOW - timedelta(days=rng.choice([1, 100, 380]))
        receipts.append(ReceiptIn(f"B-{number}", rng.choice(refs), lines, when))
    water = [line("WATER", "misc", 1, "0")]
    receipts[1:1] = [  # still in grace after both: the first one's credits are too old
        ReceiptIn("OLD-2", graced, [line("TV", "electronics", 2, "420.00")],
                  NOW - timedelta(days=380)),
        ReceiptIn("GRACE", graced, [line("LATTE", "coffee", 1, "4.50")])]
    receipts[5:5] = [
        ReceiptIn("SEEN-1", refs[0], [line("LATTE", "coffee", 2, "4.50")]),  # replay
        ReceiptIn("SEEN-2", refs[2], water),  # the id of another receipt
        ReceiptIn("HELD-1", MemberRef("phone", UNKNOWN_PHONE),
                  [line("LATTE", "coffee", 1, "4.50")]),  # replay of a held receipt
        ReceiptIn("NEW-HELD", MemberRef("phone", "+15559990001"), water),
        ReceiptIn("B-3", refs[1], water),  # B-3 again with another body: conflict
        ReceiptIn("NOBODY", MemberRef("member_code", "ZZZZZZZZ"), water),
        ReceiptIn("BAD-QTY", refs[3], [line("LATTE", "coffee", 0, "4.50")]),
        ReceiptIn("FUTURE", refs[3], water, NOW + timedelta(days=1)),
        ReceiptIn("FREE", refs[4], water),  # earns nothing: no lot, balance read
        ReceiptIn("PHONE?", MemberRef("phone", "12"), water),  # not a phone: refused
    ]
    receipts.append(ReceiptIn(receipts[0].receipt_id, receipts[0].member, receipts[0].lines,
                              receipts[0].occurred_at))  # a duplicate in the batch: replay
    return receipts


def comparable(outcome: PurchaseOutcome | LoyaltyError) -> Outcome:
    return (type(outcome).__name__, str(outcome)) if isinstance(outcome, LoyaltyError) else outcome


async def one_by_one(uow: SqlUnitOfWork, program: Program,
                     receipts: list[ReceiptIn]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for r in receipts:
        try:
            outcomes.append(await record_purchase(
                uow, program, merchant="main", receipt_id=r.receipt_id, member=r.member,
                lines=r.lines, now=NOW, occurred_at=r.occurred_at, store=r.store))
        except LoyaltyError as refused:
            outcomes.append(comparable(refused))
    return outcomes


def in_chunks(size: int) -> Callable[[SqlUnitOfWork, Program, list[ReceiptIn]],
                                     Awaitable[list[Outcome]]]:
    async def record(uow: SqlUnitOfWork, program: Program,
                     receipts: list[ReceiptIn]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for first in range(0, len(receipts), size):
            outcomes += map(comparable, await record_purchases(
                uow, program, merchant="main", receipts=receipts[first:first + size], now=NOW))
        return outcomes
    return record


async def snapshot(database: Database) -> Tables:
    """Every table's rows in id order, ids (own and referenced) replaced by their rank."""
    raw: dict[str, list[dict[str, Any]]] = {}
    async with database.reader.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
            raw[table.name] = [dict(row._mapping) for row in rows]
    ranks = {name: {row["id"]: rank for rank, row in enumerate(rows)}
             for name, rows in raw.items() if rows and "id" in rows[0]}
    tables: Tables = {}
    for table in Base.metadata.sorted_tables:
        refs = {fk.parent.name: fk.column.table.name for fk in table.foreign_keys}
        refs["id"] = table.name
        tables[table.name] = [
            tuple(ranks.get(refs[column], {}).get(value, value) if column in refs else value
                  for column, value in row.items())
            for row in raw[table.name]]
    return tables


@pytest.fixture
def fixed_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same key for forgotten members' hashes in both databases, so their rows compare."""
    monkeypatch.setattr(forgetting, "new_key", lambda: b"k" * forgetting.KEY_BYTES)


@pytest.mark.parametrize("chunk", [7, 100])
async def test_bulk_recording_writes_what_one_by_one_writes(database, uow, program, chunk,
                                                             fresh_codes, fixed_key):
    results = []
    for record in (one_by_one, in_chunks(chunk)):
        await reset(database)
        fresh_codes()
        receipts = batch(await setup(uow, program))
        outcomes = await record(uow, program, receipts)
        assert await check_invariants(database) == []
        results.append((outcomes, await snapshot(database)))
    (expected, before), (found, after) = results
    assert found == expected
    for name, rows in before.items():
        assert after[name] == rows, name
    kinds = {type(o).__name__ if isinstance(o, PurchaseOutcome) else o[0] for o in expected}
    assert kinds == {"PurchaseOutcome", "Conflict", "NotFound", "InvalidRequest"}
    awarded = [o for o in expected if isinstance(o, PurchaseOutcome) and not o.held]
    assert {o.tier for o in awarded} >= {"Insider", "Prime"}
    too_old = [o for o in awarded if any(g["reason"] == "expired"
                                         for g in o.answer["breakdown"])]  # 380 days ago
    assert too_old
    assert {o.points for o in too_old} == {0}
    assert sum(o.held for o in expected if isinstance(o, PurchaseOutcome)) == 2
    assert sum(o.replayed for o in expected if isinstance(o, PurchaseOutcome)) == 3
    assert any(o.referral_reward for o in expected if isinstance(o, PurchaseOutcome))


async def test_an_import_in_bulk_writes_what_it_writes_receipt_by_receipt(
        database, uow, program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_codes,
        fixed_key):
    async def refuse_in_bulk(*args: object, **kwargs: object) -> None:
        raise DuplicateKey("forced: record each receipt on its own")

    results = []
    for bulk in (False, True):
        await reset(database)
        fresh_codes()
        path = write_csv(tmp_path / "sales.csv", batch(await setup(uow, program)))
        with monkeypatch.context() as patch:
            if not bulk:
                patch.setattr(importer, "record_purchases", refuse_in_bulk)
            assert await import_purchases(database, program, path, clock=lambda: NOW,
                                          tasks=1) == 1  # one worker: ids in file order
        assert await check_invariants(database) == []
        results.append((await snapshot(database),
                        (tmp_path / "sales.errors.csv").read_text(encoding="utf-8")))
    (before, errors_before), (after, errors_after) = results
    assert errors_after == errors_before
    for name, rows in before.items():
        assert after[name] == rows, name


def write_csv(path: Path, receipts: list[ReceiptIn]) -> Path:
    """The receipts as an import file (a receipt named twice keeps its first rows)."""
    rows = ["receipt_id,member,sku,category,quantity,unit_price,occurred_at"]
    written = set()
    for r in receipts:
        if r.receipt_id in written:
            continue
        written.add(r.receipt_id)
        when = r.occurred_at.isoformat() if r.occurred_at else ""
        rows += [f"{r.receipt_id},{r.member.value},{ln.sku},{ln.category},{ln.quantity},"
                 f"{ln.unit_price},{when}" for ln in r.lines]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path
