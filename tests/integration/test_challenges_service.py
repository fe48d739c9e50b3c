"""Challenges on both databases, with numbers worked out by hand: each kind completed and
rewarded once, halfway told once, a streak broken by a missed week, rolling windows beside
fixed ones, refunds undoing progress until completion, and two purchases completing a
challenge at the same moment rewarded once.

The bundled program: 1 point per USD, +5 per visit, shoes x2, a signup bonus of 50; its
clock is America/New_York (EST, UTC-5, until 2026-03-08). NOW is Monday 2026-03-02 15:30
UTC; the fixed windows run through March (New York), 05:00 UTC on 1 March to 04:00 UTC on
1 April.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from domain.earning import PurchaseLine
from domain.errors import NotFound
from domain.metrics import points_figures, window
from domain.models import Member
from domain.program import Challenge, NudgeRule, Program
from domain.receipts import MemberRef, ReceiptIn
from domain.services.challenges import Standing, challenge_board, join_challenge
from domain.services.leaderboard import leaderboard
from domain.services.nudges import due_nudges, queue_nudges
from domain.services.purchases import MERCHANT, record_purchase, refund_purchase
from storage.checks import check_invariants
from storage.tables import ChallengeWindowRow, OutboxRow, TransactionRow, VoucherRow
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.integration.helpers import balance, line, new_member

HOUR = timedelta(hours=1)
MARCH = {"starts": datetime(2026, 3, 1), "ends": datetime(2026, 4, 1)}
TEE = line("TEE", "apparel", 1, "10.00")  # 10 + 5 per visit = 15 points


def with_challenges(program: Program, *challenges: Challenge) -> Program:
    return replace(program, challenges=challenges)


async def buy_at(
    database, program: Program, member: Member, receipt: str, at: datetime, *lines: PurchaseLine
) -> None:
    """A receipt that occurred at `at`, recorded a minute later."""
    assert member.code is not None
    await record_purchase(
        SqlUnitOfWork(database),
        program,
        ReceiptIn(receipt, MemberRef("member_code", member.code), list(lines or [TEE]), at),
        now=at + timedelta(minutes=1),
    )


async def refund(database, program: Program, receipt: str, amount: str, at: datetime) -> None:
    await refund_purchase(
        SqlUnitOfWork(database),
        program,
        merchant=MERCHANT,
        receipt_id=receipt,
        amount=Decimal(amount),
        now=at,
    )


async def board(database, program: Program, member: Member, now: datetime) -> dict[str, Standing]:
    return {
        s.challenge.id: s
        for s in await challenge_board(SqlUnitOfWork(database), program, member, now)
    }


async def progress(database, program: Program, member: Member, now: datetime) -> Decimal | None:
    [standing] = (await board(database, program, member, now)).values()
    return standing.progress.current if standing.progress else None


async def scalar(database, statement) -> object:
    async with database.reader.connect() as conn:
        return (await conn.execute(statement)).scalar()


async def told(database, template: str) -> list[dict]:
    async with database.reader.connect() as conn:
        rows = await conn.execute(
            select(OutboxRow.c.context).where(OutboxRow.c.template == template)
        )
        return [row.context for row in rows]


async def challenge_points(database) -> list[int]:
    async with database.reader.connect() as conn:
        rows = await conn.execute(
            select(TransactionRow.c.points).where(TransactionRow.c.kind == "challenge")
        )
        return [row.points for row in rows]


async def test_purchases_in_a_fixed_window_are_rewarded_once(database, program):
    three = Challenge("three", "Three visits", "purchases", Decimal(3), bonus=100, **MARCH)
    program = with_challenges(program, three)
    ann = await new_member(SqlUnitOfWork(database), program, 1)
    await buy_at(database, program, ann, "R0", datetime(2026, 2, 28, 12, tzinfo=NOW.tzinfo))
    await buy_at(database, program, ann, "R1", NOW)
    assert await progress(database, program, ann, NOW + HOUR) == 1  # February's is outside
    assert await told(database, "challenge_halfway") == []  # 1 of 3 is under half
    await buy_at(database, program, ann, "R2", NOW + HOUR)
    assert await told(database, "challenge_halfway") == [
        {
            "challenge": "three",
            "kind": "purchases",
            "current": "2",
            "target": "3",
            "last_day": "2026-03-31",
        }
    ]
    await buy_at(database, program, ann, "R3", NOW + 2 * HOUR)
    await buy_at(database, program, ann, "R4", NOW + 3 * HOUR)  # past the goal: nothing more
    # 50 signup + 5 receipts of 15 + the bonus of 100
    assert await balance(SqlUnitOfWork(database), ann) == 50 + 5 * 15 + 100
    assert await challenge_points(database) == [100]
    [completed] = await told(database, "challenge_completed")
    assert completed["points"] == 100
    assert completed["balance"] == 50 + 4 * 15 + 100  # after R3, the receipt that completed it
    assert len(await told(database, "challenge_halfway")) == 1
    standing = (await board(database, program, ann, NOW + 4 * HOUR))["three"]
    assert standing.completed
    assert standing.progress is not None
    assert standing.progress.current == 4  # R1 to R4
    # the leaderboard counts the bonus with the purchase points of March (R1 to R4)
    top = await leaderboard(SqlUnitOfWork(database), program, ann.id, NOW + 4 * HOUR)
    assert top.own is not None
    assert top.own.value == 4 * 15 + 100
    # the metrics show the bonus as points issued by completing challenges
    async with SqlUnitOfWork(database, read_only=True) as uow:
        facts = await uow.metrics.facts(
            window(program, NOW.date() - timedelta(days=1), NOW.date() + timedelta(days=1))
        )
    assert points_figures(program, facts).issued["challenge"] == 100
    assert await check_invariants(database) == []


async def test_spend_counts_its_categories_less_refunds_and_gives_the_voucher(database, program):
    shoes = Challenge(
        "shoes",
        "Shoe month",
        "spend",
        Decimal(100),
        categories=("shoes",),
        bonus=40,
        reward="coffee",
        **MARCH,
    )
    program = with_challenges(program, shoes)
    ann = await new_member(SqlUnitOfWork(database), program, 1)
    boots, coffee = line("BOOT", "shoes", 1, "60.00"), line("LATTE", "coffee", 1, "50.00")
    await buy_at(database, program, ann, "A", NOW, boots, coffee)  # 60 of shoes: halfway
    assert await progress(database, program, ann, NOW + HOUR) == 60
    assert len(await told(database, "challenge_halfway")) == 1
    await refund(database, program, "A", "55.00", NOW + HOUR)  # half of 110: 30 of shoes left
    assert await progress(database, program, ann, NOW + 2 * HOUR) == 30
    await buy_at(database, program, ann, "B", NOW + 2 * HOUR, line("SOCK", "shoes", 2, "25.00"))
    assert await progress(database, program, ann, NOW + 3 * HOUR) == 80  # 30 + 50
    assert await told(database, "challenge_completed") == []
    await buy_at(database, program, ann, "C", NOW + 3 * HOUR, line("LACE", "shoes", 1, "20.00"))
    [completed] = await told(database, "challenge_completed")
    assert completed["points"] == 40
    assert completed["reward"] == "coffee"
    assert completed["code"] == await scalar(database, select(VoucherRow.c.code))
    assert await challenge_points(database) == [40]
    assert len(await told(database, "challenge_halfway")) == 1  # told once, refund or not
    assert await check_invariants(database) == []


async def test_distinct_categories(database, program):
    mix = Challenge("mix", "Try it all", "categories", Decimal(3), bonus=30, **MARCH)
    program = with_challenges(program, mix)
    ann = await new_member(SqlUnitOfWork(database), program, 1)
    latte = line("LATTE", "coffee", 1, "4.00")
    await buy_at(database, program, ann, "R1", NOW, latte)
    await buy_at(database, program, ann, "R2", NOW + HOUR, latte)  # coffee again: still 1
    assert await progress(database, program, ann, NOW + 2 * HOUR) == 1
    await buy_at(database, program, ann, "R3", NOW + 2 * HOUR, line("BOOT", "shoes", 1, "60.00"))
    assert len(await told(database, "challenge_halfway")) == 1  # 2 of 3
    await buy_at(database, program, ann, "R4", NOW + 3 * HOUR, line("BEANS-1KG", "beans", 1, "9"))
    assert await challenge_points(database) == [30]


async def test_a_streak_broken_by_a_missed_week_starts_again(database, program):
    weeks = Challenge(
        "weeks",
        "Three weeks",
        "streak",
        Decimal(3),
        starts=datetime(2026, 3, 2),
        ends=datetime(2026, 5, 1),
        bonus=75,
    )
    program = with_challenges(program, weeks)
    ann = await new_member(SqlUnitOfWork(database), program, 1)

    async def week_of(day: int, month: int = 3) -> Decimal | None:
        at = datetime(2026, month, day, 16, tzinfo=NOW.tzinfo)  # noon or 11:00 in New York
        await buy_at(database, program, ann, f"W{month}-{day}", at)
        return await progress(database, program, ann, at + HOUR)

    assert await week_of(3) == 1  # the week of Monday 2 March
    assert await week_of(10) == 2  # of 9 March: halfway
    # nothing in the week of 16 March: the run is broken
    assert await week_of(24) == 1  # of 23 March
    assert await week_of(31) == 2  # of 30 March
    assert await challenge_points(database) == []
    assert await week_of(7, 4) == 3  # of 6 April: three in a row
    assert await challenge_points(database) == [75]
    assert len(await told(database, "challenge_halfway")) == 1
    assert len(await told(database, "challenge_completed")) == 1


async def test_referrals_in_a_rolling_window_from_joining_the_program(database, program):
    friends = Challenge("friends", "Bring two", "referrals", Decimal(2), days=30, bonus=60)
    program = with_challenges(program, friends)
    ann = await new_member(SqlUnitOfWork(database), program, 1)
    for number in (2, 3):
        friend = await new_member(SqlUnitOfWork(database), program, number, ann.code)
        await buy_at(database, program, friend, f"F{number}", NOW + number * HOUR)
    assert await challenge_points(database) == [60]
    # Ann: 50 signup + 2 friends of 100 (the first milestone is at 3) + the bonus of 60
    assert await balance(SqlUnitOfWork(database), ann) == 50 + 2 * 100 + 60
    [completed] = await told(database, "challenge_completed")
    assert completed["challenge"] == "friends"
    standing = (await board(database, program, ann, NOW + 4 * HOUR))["friends"]
    assert standing.completed
    assert standing.window is not None
    assert standing.window.starts == ann.joined_at
    assert await check_invariants(database) == []


async def test_rolling_windows_start_at_join_fixed_ones_count_the_whole_window(database, program):
    fixed = Challenge(
        "fixed", "March pair", "purchases", Decimal(2), opt_in=True, bonus=20, **MARCH
    )
    week = Challenge(
        "week", "A pair a week", "purchases", Decimal(2), days=7, opt_in=True, bonus=30
    )
    program = with_challenges(program, fixed, week)
    ann = await new_member(SqlUnitOfWork(database), program, 1)
    await buy_at(database, program, ann, "R1", NOW)  # before joining either
    seen = await board(database, program, ann, NOW + HOUR)
    assert seen["fixed"].joinable
    assert seen["week"].joinable
    assert await challenge_points(database) == []  # not joined: nothing counts
    for challenge_id in ("fixed", "week"):
        joined = await join_challenge(
            SqlUnitOfWork(database),
            program,
            member=ann,
            challenge_id=challenge_id,
            now=NOW + HOUR,
        )
        assert joined.new
    again = await join_challenge(
        SqlUnitOfWork(database), program, member=ann, challenge_id="week", now=NOW + 2 * HOUR
    )
    assert not again.new  # the second tap joins nothing
    seen = await board(database, program, ann, NOW + 2 * HOUR)
    assert seen["fixed"].progress is not None
    assert seen["fixed"].progress.current == 1
    assert seen["week"].progress is not None
    assert seen["week"].progress.current == 0
    await buy_at(database, program, ann, "R2", NOW + 2 * HOUR)
    assert await challenge_points(database) == [20]  # fixed: R1 and R2; week: R2 only
    await buy_at(database, program, ann, "R3", NOW + 8 * 24 * HOUR)  # after the week ended
    seen = await board(database, program, ann, NOW + 8 * 24 * HOUR + HOUR)
    assert seen["week"].joinable  # ended unfinished: Join again
    rejoined = await join_challenge(
        SqlUnitOfWork(database),
        program,
        member=ann,
        challenge_id="week",
        now=NOW + 8 * 24 * HOUR + HOUR,
    )
    assert rejoined.new
    await buy_at(database, program, ann, "R4", NOW + 8 * 24 * HOUR + 2 * HOUR)
    await buy_at(database, program, ann, "R5", NOW + 8 * 24 * HOUR + 3 * HOUR)
    assert await challenge_points(database) == [20, 30]
    completed = await join_challenge(
        SqlUnitOfWork(database),
        program,
        member=ann,
        challenge_id="week",
        now=NOW + 16 * 24 * HOUR,  # the second week is over too, but completed: once
    )
    assert not completed.new
    april = datetime(2026, 4, 2, tzinfo=NOW.tzinfo)
    bob = await new_member(SqlUnitOfWork(database), program, 2, now=april)
    assert list(await board(database, program, bob, april)) == ["week"]  # March is over
    with pytest.raises(NotFound):  # over, or not opt-in: nothing to join
        await join_challenge(
            SqlUnitOfWork(database),
            program,
            member=ann,
            challenge_id="fixed",
            now=datetime(2026, 4, 2, tzinfo=NOW.tzinfo),
        )


async def test_a_refund_undoes_progress_until_completion(database, program):
    pair = Challenge("pair", "Two visits", "purchases", Decimal(2), bonus=50, **MARCH)
    program = with_challenges(program, pair)
    ann = await new_member(SqlUnitOfWork(database), program, 1)
    await buy_at(database, program, ann, "R1", NOW)
    assert await progress(database, program, ann, NOW + HOUR) == 1
    await refund(database, program, "R1", "10.00", NOW + HOUR)  # all of it
    assert await progress(database, program, ann, NOW + 2 * HOUR) == 0
    await buy_at(database, program, ann, "R2", NOW + 2 * HOUR)
    assert await progress(database, program, ann, NOW + 3 * HOUR) == 1
    assert await challenge_points(database) == []
    await buy_at(database, program, ann, "R3", NOW + 3 * HOUR)
    assert await challenge_points(database) == [50]
    await refund(database, program, "R3", "10.00", NOW + 4 * HOUR)  # after completion
    standing = (await board(database, program, ann, NOW + 5 * HOUR))["pair"]
    assert standing.completed  # the reward stays
    assert standing.progress is not None
    assert standing.progress.current == 1
    assert await challenge_points(database) == [50]
    # 50 signup + 3 x 15 - 2 x 15 clawed back + 50
    assert await balance(SqlUnitOfWork(database), ann) == 50 + 15 + 50
    assert await check_invariants(database) == []


async def test_two_purchases_completing_it_at_once_reward_it_once(database, program):
    pair = Challenge("pair", "Two visits", "purchases", Decimal(2), bonus=50, **MARCH)
    program = with_challenges(program, pair)
    ann = await new_member(SqlUnitOfWork(database), program, 1)
    await buy_at(database, program, ann, "R1", NOW)
    await asyncio.gather(
        buy_at(database, program, ann, "R2", NOW + HOUR),
        buy_at(database, program, ann, "R3", NOW + HOUR),
    )
    assert await challenge_points(database) == [50]
    assert len(await told(database, "challenge_completed")) == 1
    assert await scalar(database, select(func.count()).select_from(ChallengeWindowRow)) == 1
    assert await balance(SqlUnitOfWork(database), ann) == 50 + 3 * 15 + 50
    assert await check_invariants(database) == []


async def test_challenge_ending_nudges_members_at_least_halfway(database, program):
    three = Challenge("three", "Three visits", "purchases", Decimal(3), bonus=100, **MARCH)
    rules = (*program.nudges.rules, NudgeRule("challenge_ending", before_days=3))
    program = replace(with_challenges(program, three), nudges=replace(program.nudges, rules=rules))
    ann = await new_member(SqlUnitOfWork(database), program, 1)
    bob = await new_member(SqlUnitOfWork(database), program, 2)
    await buy_at(database, program, ann, "A1", NOW)
    await buy_at(database, program, ann, "A2", NOW + HOUR)  # 2 of 3: at least half
    await buy_at(database, program, bob, "B1", NOW)  # 1 of 3: under half
    early = [b async for b in due_nudges(SqlUnitOfWork(database), program, NOW + 2 * HOUR)]
    assert early == []  # 29 days before the end, and both joined just now
    # 15:30 UTC on 29 March is 2 days and 12 and a half hours before the end (04:00 UTC on
    # 1 April): within 3 days. Bob, under half, gets his referral reminder instead.
    late = datetime(2026, 3, 29, 15, 30, tzinfo=NOW.tzinfo)
    due = {
        n.member_id: n
        for batch in [b async for b in due_nudges(SqlUnitOfWork(database), program, late)]
        for n in batch
    }
    assert due[ann.id].kind == "challenge_ending"
    assert due[ann.id].context == {
        "challenge": "three",
        "kind": "purchases",
        "current": "2",
        "target": "3",
        "last_day": "2026-03-31",
    }
    assert due[bob.id].kind == "referral_reminder"
    assert await queue_nudges(SqlUnitOfWork(database), program, late) == 2
    assert len(await told(database, "nudge_challenge_ending")) == 1


async def test_the_window_key_completes_once_between_open_transactions(database, program):
    """Below the member lock: two transactions completing one window at once, the second
    waiting on the first's key, complete it once."""
    ann = await new_member(SqlUnitOfWork(database), program, 1)
    start = datetime(2026, 3, 1, 5, tzinfo=NOW.tzinfo)

    async def complete() -> bool:
        async with SqlUnitOfWork(database) as uow:
            done = await uow.challenges.complete(ann.id, "pair", start, NOW)
            await asyncio.sleep(0.05)  # still open while the other tries
            return done

    assert sorted(await asyncio.gather(complete(), complete())) == [False, True]
    async with SqlUnitOfWork(database) as uow:
        assert await uow.challenges.mark_halfway(ann.id, "pair", start, NOW) is False
        [mark] = await uow.challenges.marks(ann.id, ann.id)
    assert mark.completed_at == NOW
    assert mark.halfway_at is None


async def test_a_reward_out_of_stock_still_pays_the_bonus(database, program, caplog):
    one = Challenge(
        "one", "First visit", "purchases", Decimal(1), bonus=10, reward="coffee", **MARCH
    )
    rewards = tuple(replace(r, stock=0) if r.id == "coffee" else r for r in program.rewards)
    program = replace(with_challenges(program, one), rewards=rewards)
    ann = await new_member(SqlUnitOfWork(database), program, 1)
    await buy_at(database, program, ann, "R1", NOW)
    [completed] = await told(database, "challenge_completed")
    assert (completed["points"], completed["reward"], completed["code"]) == (10, None, None)
    assert await scalar(database, select(func.count()).select_from(VoucherRow)) == 0
    assert "challenge one of member" in caplog.text
    assert await balance(SqlUnitOfWork(database), ann) == 50 + 15 + 10
