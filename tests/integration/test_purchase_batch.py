"""One pipeline, four ways in: every table is written alike for a receipt recorded alone
(`record_purchase`), in a batch (`record_purchases`, chunks of 7 and 100), by the API's
group commit and by the importer (in chunks, and one by one when a chunk fails whole).

The same members and the same receipts (repeated members within a chunk, tier crossings
and grace, zero-point receipts, late receipts dated and expiring by when they happened,
some too old to earn, a referral qualifying, replays, conflicting replays, duplicates
within the batch, held and refused receipts) go each way into a fresh database; every
table is compared row for row, with surrogate ids replaced by their rank so foreign keys
are compared too. The API's token and the importer's audit entry are no purchase's
rows, so `api_tokens` and `audit_log` are left out.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.importer import import_purchases
from domain.errors import DuplicateKey, LoyaltyError
from domain.program import Program
from domain.services import forgetting, purchases
from domain.services.api_tokens import create_token
from domain.services.members import forget, update_settings
from domain.services.purchases import (
    MemberRef,
    PurchaseOutcome,
    ReceiptIn,
    record_purchase,
    record_purchases,
)
from storage.checks import check_invariants
from storage.database import Database
from storage.tables import metadata
from storage.uow import SqlUnitOfWork
from tests.api.conftest import api_client, bearer
from tests.conftest import NOW
from tests.integration.helpers import line, new_member, reset

Outcome = PurchaseOutcome | tuple[str, str]
Tables = dict[str, list[tuple[Any, ...]]]
CATALOG = [
    ("LATTE", "coffee", "4.50"),
    ("BEANS-1KG", "coffee", "18.00"),
    ("SNEAKER", "shoes", "100.00"),
    ("GIFTCARD", "gift_cards", "50.00"),
    ("WATER", "misc", "0"),
    ("TV", "electronics", "420.00"),
]
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
    await record_purchase(
        uow,
        program,
        ReceiptIn("OLD-1", code_ref(graced.code), [line("TV", "electronics", 2, "420.00")]),
        now=past,
    )
    await forget(uow, gone.id, NOW)
    refs = [code_ref(m.code) for m in [*members, invited]]
    refs += [
        MemberRef("telegram_id", "2"),
        MemberRef("phone", PHONE),
        MemberRef("telegram_id", "8"),
    ]  # the forgotten member: refused
    for receipt in [
        ReceiptIn("SEEN-1", refs[0], [line("LATTE", "coffee", 2, "4.50")]),
        ReceiptIn("SEEN-2", refs[2], [line("LATTE", "coffee", 1, "4.50")]),
        ReceiptIn(
            "HELD-1", MemberRef("phone", UNKNOWN_PHONE), [line("LATTE", "coffee", 1, "4.50")]
        ),
    ]:
        await record_purchase(uow, program, receipt, now=NOW)
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
        lines = [
            line(sku, category, rng.randint(1, 3), price)
            for sku, category, price in rng.sample(CATALOG, rng.randint(1, 3))
        ]
        when = None if number % 3 else NOW - timedelta(days=rng.choice([1, 100, 380]))
        receipts.append(ReceiptIn(f"B-{number}", rng.choice(refs), lines, when))
    water = [line("WATER", "misc", 1, "0")]
    receipts[1:1] = [  # still in grace after both: the first one's credits are too old
        ReceiptIn(
            "OLD-2", graced, [line("TV", "electronics", 2, "420.00")], NOW - timedelta(days=380)
        ),
        ReceiptIn("GRACE", graced, [line("LATTE", "coffee", 1, "4.50")]),
    ]
    receipts[5:5] = [
        ReceiptIn("SEEN-1", refs[0], [line("LATTE", "coffee", 2, "4.50")]),  # replay
        ReceiptIn("SEEN-2", refs[2], water),  # the id of another receipt
        ReceiptIn(
            "HELD-1", MemberRef("phone", UNKNOWN_PHONE), [line("LATTE", "coffee", 1, "4.50")]
        ),  # replay of a held receipt
        ReceiptIn("NEW-HELD", MemberRef("phone", "+15559990001"), water),
        ReceiptIn("B-3", refs[1], water),  # B-3 again with another body: conflict
        ReceiptIn("NOBODY", MemberRef("member_code", "ZZZZZZZZ"), water),
        ReceiptIn("BAD-QTY", refs[3], [line("LATTE", "coffee", 0, "4.50")]),
        ReceiptIn("FUTURE", refs[3], water, NOW + timedelta(days=1)),
        ReceiptIn("FREE", refs[4], water),  # earns nothing: no lot, balance read
        ReceiptIn("PHONE?", MemberRef("phone", "12"), water),  # not a phone: refused
    ]
    receipts.append(
        ReceiptIn(
            receipts[0].receipt_id, receipts[0].member, receipts[0].lines, receipts[0].occurred_at
        )
    )  # a duplicate in the batch: replay
    return receipts


def comparable(outcome: PurchaseOutcome | LoyaltyError) -> Outcome:
    return (type(outcome).__name__, str(outcome)) if isinstance(outcome, LoyaltyError) else outcome


Way = Callable[[Database, Program, list[ReceiptIn], Path], Awaitable[list[Outcome] | None]]


async def alone(
    database: Database, program: Program, receipts: list[ReceiptIn], tmp_path: Path
) -> list[Outcome]:
    """Each receipt in its own transaction: a batch of one."""
    outcomes: list[Outcome] = []
    for receipt in receipts:
        try:
            outcomes.append(
                await record_purchase(SqlUnitOfWork(database), program, receipt, now=NOW)
            )
        except LoyaltyError as refused:
            outcomes.append(comparable(refused))
    return outcomes


def in_chunks(size: int) -> Way:
    """The receipts `size` to a transaction."""

    async def record(
        database: Database, program: Program, receipts: list[ReceiptIn], tmp_path: Path
    ) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for first in range(0, len(receipts), size):
            chunk = receipts[first : first + size]
            outcomes += map(
                comparable, await record_purchases(SqlUnitOfWork(database), program, chunk, now=NOW)
            )
        return outcomes

    return record


async def by_api(
    database: Database, program: Program, receipts: list[ReceiptIn], tmp_path: Path
) -> None:
    """Every receipt posted at once, so the group commit batches them (in this order: the
    token is cached by a first request)."""
    secret, _ = await create_token(
        SqlUnitOfWork(database), "till", frozenset({"purchases", "members"}), NOW
    )
    async with api_client(database, program) as http:
        auth = bearer(secret)
        assert (await http.get("/api/v1/members/ZZZZ2345", headers=auth)).status_code == 404
        replies = await asyncio.gather(
            *[http.post("/api/v1/purchases", json=api_body(r), headers=auth) for r in receipts]
        )
    assert {reply.status_code for reply in replies} == {200, 201, 202, 404, 409, 422}


def by_importer(each_alone: bool) -> Way:
    """The receipts as a CSV file, imported by one worker (ids in file order); with
    `each_alone`, every chunk fails as a whole first."""

    async def record(
        database: Database, program: Program, receipts: list[ReceiptIn], tmp_path: Path
    ) -> None:
        path = write_csv(tmp_path / "sales.csv", receipts)
        with pytest.MonkeyPatch.context() as patch:
            if each_alone:
                patch.setattr(purchases, "record_purchases", refuse_in_bulk)
            assert await import_purchases(database, program, path, clock=lambda: NOW, tasks=1) == 1

    return record


async def refuse_in_bulk(*args: object, **kwargs: object) -> None:
    raise DuplicateKey("forced: record each receipt on its own")


WAYS: dict[str, Way] = {
    "batches of 7": in_chunks(7),
    "batches of 100": in_chunks(100),
    "api": by_api,
    "importer": by_importer(each_alone=False),
    "importer, one by one": by_importer(each_alone=True),
}


async def snapshot(database: Database) -> Tables:
    """Every table's rows in id order, ids (own and referenced) replaced by their rank."""
    raw: dict[str, list[dict[str, Any]]] = {}
    async with database.reader.connect() as conn:
        for table in metadata.sorted_tables:
            rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
            raw[table.name] = [dict(row._mapping) for row in rows]
    ranks = {
        name: {row["id"]: rank for rank, row in enumerate(rows)}
        for name, rows in raw.items()
        if rows and "id" in rows[0]
    }
    tables: Tables = {}
    for table in metadata.sorted_tables:
        if table.name in ("api_tokens", "audit_log"):
            continue
        refs = {fk.parent.name: fk.column.table.name for fk in table.foreign_keys}
        refs["id"] = table.name
        tables[table.name] = [
            tuple(
                ranks.get(refs[column], {}).get(value, value) if column in refs else value
                for column, value in row.items()
            )
            for row in raw[table.name]
        ]
    return tables


@pytest.fixture
def fixed_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same key for forgotten members' hashes in both databases, so their rows compare."""
    monkeypatch.setattr(forgetting, "new_key", lambda: b"k" * forgetting.KEY_BYTES)


@pytest.mark.parametrize("way", list(WAYS))
async def test_the_pipeline_writes_the_same_rows_every_way_in(
    database, uow, program, way, fresh_codes, fixed_key, tmp_path: Path
):
    results = []
    for record in (alone, WAYS[way]):
        await reset(database)
        fresh_codes()
        receipts = batch(await setup(uow, program))
        outcomes = await record(database, program, receipts, tmp_path)
        assert await check_invariants(database) == []
        results.append((outcomes, await snapshot(database)))
    (expected, before), (found, after) = results
    for name, rows in before.items():
        assert after[name] == rows, name
    if found is not None:
        assert found == expected
    assert expected is not None
    kinds = {type(o).__name__ if isinstance(o, PurchaseOutcome) else o[0] for o in expected}
    assert kinds == {"PurchaseOutcome", "Conflict", "NotFound", "InvalidRequest"}
    awarded = [o for o in expected if isinstance(o, PurchaseOutcome) and not o.held]
    assert {o.tier for o in awarded} >= {"Insider", "Prime"}
    too_old = [
        o for o in awarded if any(g["reason"] == "expired" for g in o.answer["breakdown"])
    ]  # 380 days ago
    assert too_old
    assert {o.points for o in too_old} == {0}
    assert sum(o.held for o in expected if isinstance(o, PurchaseOutcome)) == 2
    assert sum(o.replayed for o in expected if isinstance(o, PurchaseOutcome)) == 3
    assert any(o.referral_reward for o in expected if isinstance(o, PurchaseOutcome))


def api_body(receipt: ReceiptIn) -> dict[str, Any]:
    """A receipt as a till posts it."""
    kind, value = receipt.member.kind, receipt.member.value
    body: dict[str, Any] = {
        "receipt_id": receipt.receipt_id,
        "member": {kind: int(value) if kind == "telegram_id" else value},
        "items": [
            {
                "sku": ln.sku,
                "category": ln.category,
                "quantity": ln.quantity,
                "unit_price": str(ln.unit_price),
            }
            for ln in receipt.lines
        ],
    }
    if receipt.occurred_at is not None:
        body["occurred_at"] = receipt.occurred_at.isoformat()
    return body


def write_csv(path: Path, receipts: list[ReceiptIn]) -> Path:
    """The receipts as an import file (a receipt named twice keeps its first rows)."""
    rows = ["receipt_id,member,sku,category,quantity,unit_price,occurred_at"]
    written = set()
    for r in receipts:
        if r.receipt_id in written:
            continue
        written.add(r.receipt_id)
        when = r.occurred_at.isoformat() if r.occurred_at else ""
        rows += [
            f"{r.receipt_id},{r.member.value},{ln.sku},{ln.category},{ln.quantity},"
            f"{ln.unit_price},{when}"
            for ln in r.lines
        ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path
