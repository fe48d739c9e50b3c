"""The month's leaderboard on both databases, with hand-computed numbers: purchase points
net of refunds in the program-local month (not bonuses or the month before), ties to who
got there first, names only for members who chose so, forgotten members left out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.leaderboard import masked_code
from domain.program import LeaderboardRules
from domain.services.leaderboard import is_named, leaderboard, set_named
from domain.services.members import forget
from domain.services.points import adjust_points
from domain.services.purchases import (
    MERCHANT,
    MemberRef,
    ReceiptIn,
    record_purchase,
    refund_purchase,
)
from storage.uow import SqlUnitOfWork
from tests.integration.helpers import line, new_member

JOINED = datetime(2026, 1, 5, tzinfo=UTC)
LATER = datetime(2026, 3, 20, 12, tzinfo=UTC)  # the board is read in March (New York)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def bought(database, program, member, receipt: str, amount: str, when: str) -> int:
    """A receipt of `amount` (category other: amount + 5 points at the lowest tier)."""
    outcome = await record_purchase(
        SqlUnitOfWork(database),
        program,
        ReceiptIn(
            receipt,
            MemberRef("member_code", member.code),
            [line("X", "other", 1, amount)],
            occurred_at=at(when),
        ),
        now=at(when),
    )
    return outcome.points


@pytest.fixture
async def month(database, program):
    """Six members and their March (New York), the program's time zone."""
    people = {
        name: await new_member(SqlUnitOfWork(database), program, number, now=JOINED)
        for number, name in enumerate(("ann", "bob", "cat", "dan", "eve", "fay"), 1)
    }
    assert await bought(database, program, people["ann"], "A1", "95", "2026-03-02 10:00") == 100
    await bought(database, program, people["bob"], "B1", "95", "2026-03-03 10:00")
    await bought(database, program, people["bob"], "B2", "95", "2026-03-04 10:00")
    await refund_purchase(
        SqlUnitOfWork(database),
        program,
        merchant=MERCHANT,
        receipt_id="B2",
        amount=Decimal("95"),
        now=at("2026-03-04 11:00"),
    )  # 100 clawed back
    await bought(database, program, people["cat"], "C0", "295", "2026-03-01 04:30")  # 23:30 Feb 28
    await bought(database, program, people["cat"], "C1", "45", "2026-03-05 10:00")
    await bought(database, program, people["dan"], "D1", "5", "2026-03-05 11:00")
    await adjust_points(
        SqlUnitOfWork(database),
        program,
        member_id=people["dan"].id,
        points=1000,
        reason="a gift",
        actor="test",
        now=at("2026-03-05 12:00"),
    )
    await bought(database, program, people["eve"], "E1", "70", "2026-03-06 10:00")
    await bought(database, program, people["eve"], "E2", "70", "2026-03-07 10:00")
    await bought(database, program, people["fay"], "F1", "400", "2026-03-06 10:00")
    await forget(SqlUnitOfWork(database), people["fay"].id, at("2026-03-10 10:00"))
    await set_named(SqlUnitOfWork(database), people["eve"].id, True, at("2026-03-08 10:00"))
    return people


def board_of(program, size: int = 3, metric: str = "points"):
    return replace(program, leaderboard=LeaderboardRules(metric=metric, size=size))


async def test_points_net_of_refunds_ties_first_come_names_chosen(database, program, month):
    board = await leaderboard(SqlUnitOfWork(database), board_of(program), month["dan"].id, LATER)
    code = {name: masked_code(member.code) for name, member in month.items()}
    assert [(p.rank, p.shown, p.named, p.value) for p in board.top] == [
        (1, "User5", True, 150),  # eve: 75 + 75
        (2, code["ann"], False, 100),  # ann reached 100 on the 2nd
        (3, code["bob"], False, 100),  # bob: 200 - 100, reached on the 4th
    ]
    assert board.own is not None
    assert (board.own.rank, board.own.value, board.own.mine) == (5, 10, True)  # cat is 4th
    assert board.month == datetime(2026, 3, 1, tzinfo=board.month.tzinfo)
    mine = await leaderboard(SqlUnitOfWork(database), board_of(program), month["ann"].id, LATER)
    assert [p.mine for p in mine.top] == [False, True, False]
    assert mine.own == mine.top[1]


async def test_the_month_before_and_a_member_without_points(database, program, month):
    february = await leaderboard(
        SqlUnitOfWork(database), board_of(program), month["cat"].id, at("2026-02-20 12:00")
    )
    assert [(p.rank, p.value) for p in february.top] == [(1, 300)]  # cat's 23:30 on the 28th
    assert february.own == february.top[0]
    nobody = await new_member(SqlUnitOfWork(database), program, 99, now=JOINED)
    board = await leaderboard(SqlUnitOfWork(database), board_of(program), nobody.id, LATER)
    assert board.own is None
    assert len(board.top) == 3


async def test_by_purchases(database, program, month):
    board = await leaderboard(
        SqlUnitOfWork(database), board_of(program, 10, "purchases"), month["bob"].id, LATER
    )
    assert [(p.rank, p.value) for p in board.top] == [(1, 2), (2, 1), (3, 1), (4, 1), (5, 1)]
    assert [p.named for p in board.top] == [True, False, False, False, False]
    assert [p.mine for p in board.top] == [False, False, True, False, False]  # eve, ann, bob


async def test_the_name_choice(database, program, month):
    ann = month["ann"].id
    assert not await is_named(SqlUnitOfWork(database), ann)
    assert await set_named(SqlUnitOfWork(database), ann, True, LATER)
    assert await set_named(SqlUnitOfWork(database), ann, True, LATER)  # twice: still named
    board = await leaderboard(SqlUnitOfWork(database), board_of(program), ann, LATER)
    assert board.top[1].shown == "User1"
    assert not await set_named(SqlUnitOfWork(database), ann, False, LATER)
    assert not await is_named(SqlUnitOfWork(database), ann)
