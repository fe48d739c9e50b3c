"""Challenges settled for a batch of receipts from several members, on both databases: each
member is told and rewarded as if their receipt were recorded alone, and the batch reads
the challenges' facts once for all its buyers (the statements do not grow with them).

The bundled program with one fixed challenge over March (New York); NOW is Monday
2026-03-02 15:30 UTC.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select

from domain.models import Member
from domain.program import Challenge, Program
from domain.receipts import MemberRef, ReceiptIn
from domain.services.purchases import PurchaseOutcome, record_purchase, record_purchases
from storage.checks import check_invariants
from storage.database import Database
from storage.tables import OutboxRow, TransactionRow
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.integration.helpers import line, new_member

MARCH_STARTS, MARCH_ENDS = datetime(2026, 3, 1), datetime(2026, 4, 1)
TEE = line("TEE", "apparel", 1, "10.00")


def receipt(member: Member, receipt_id: str) -> ReceiptIn:
    assert member.code is not None
    return ReceiptIn(receipt_id, MemberRef("member_code", member.code), [TEE], NOW)


async def members(database: Database, program: Program, count: int, first: int) -> list[Member]:
    return [
        await new_member(SqlUnitOfWork(database), program, telegram_id)
        for telegram_id in range(first, first + count)
    ]


async def batch(database: Database, program: Program, receipts: list[ReceiptIn]) -> int:
    """Record `receipts` in one batch; the statements it sent."""
    sent = 0

    def count(*_: Any) -> None:
        nonlocal sent
        sent += 1

    engine = database.writer.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        outcomes = await record_purchases(
            SqlUnitOfWork(database), program, receipts, now=NOW + timedelta(minutes=1)
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert all(isinstance(o, PurchaseOutcome) for o in outcomes)
    return sent


async def rows(database: Database, statement: Any) -> list[Any]:
    async with database.reader.connect() as conn:
        return list(await conn.execute(statement))


async def test_a_batch_tells_and_rewards_each_buyer_as_if_alone(
    database: Database, program: Program
) -> None:
    three = Challenge(
        "three",
        "Three visits",
        "purchases",
        Decimal(3),
        bonus=100,
        starts=MARCH_STARTS,
        ends=MARCH_ENDS,
    )
    program = replace(program, challenges=(three,))
    ann, bob, cat = await members(database, program, 3, 1)
    for receipt_id in ("A1", "A2"):
        await record_purchase(SqlUnitOfWork(database), program, receipt(ann, receipt_id), now=NOW)
    await record_purchase(SqlUnitOfWork(database), program, receipt(bob, "B1"), now=NOW)

    await batch(database, program, [receipt(ann, "A3"), receipt(bob, "B2"), receipt(cat, "C1")])

    told = await rows(
        database,
        select(OutboxRow.c.member_id, OutboxRow.c.template)
        .where(OutboxRow.c.template.like("challenge_%"))
        .order_by(OutboxRow.c.id),
    )
    assert [tuple(row) for row in told] == [
        (ann.id, "challenge_halfway"),  # her second receipt, alone
        (ann.id, "challenge_completed"),  # her third, in the batch
        (bob.id, "challenge_halfway"),  # his second, in the batch; cat's first is under half
    ]
    bonuses = await rows(
        database,
        select(TransactionRow.c.member_id, TransactionRow.c.points).where(
            TransactionRow.c.kind == "challenge"
        ),
    )
    assert [tuple(row) for row in bonuses] == [(ann.id, 100)]
    assert await check_invariants(database) == []


async def test_a_batch_reads_the_challenges_once_for_all_its_buyers(
    database: Database, program: Program
) -> None:
    ten = Challenge(
        "ten",
        "Ten visits",
        "purchases",
        Decimal(10),
        bonus=100,
        starts=MARCH_STARTS,
        ends=MARCH_ENDS,
    )
    program = replace(program, challenges=(ten,))
    eve, *others = await members(database, program, 4, 11)

    alone = await batch(database, program, [receipt(eve, "E1")])
    three_buyers = await batch(
        database, program, [receipt(m, f"O{i}") for i, m in enumerate(others)]
    )

    assert three_buyers == alone
