"""Forgetting and coming back: a fresh account, but no second welcome for the same person.

Only a keyed hash (HMAC-SHA256) of a forgotten member's Telegram id is kept, with a
per-installation key made once and stored in its own table.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from domain.broadcasts import BroadcastContent
from domain.errors import NotFound
from domain.program import Milestone
from domain.segments import Segment
from domain.services.broadcasts import queue_broadcast
from domain.services.gifts import claim_gift
from domain.services.members import forget, join
from domain.services.referrals import referral_stats
from domain.services.rewards import redeem_reward
from storage.checks import check_invariants
from storage.tables import ForgottenMemberRow, InstallationKeyRow, TransactionRow, metadata
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.integration.helpers import balance, buy, line, new_member

LATER = NOW + timedelta(hours=1)
PRICEY = line("TV", "electronics", 1, "400.00")


async def start(uow, program, telegram_id, code=None, now=LATER):
    return await join(
        uow,
        program,
        telegram_id=telegram_id,
        first_name="A",
        language_code="en",
        now=now,
        referral_code=code,
    )


async def kinds_of(database, member_id) -> list[str]:
    async with database.reader.connect() as conn:
        rows = await conn.execute(
            select(TransactionRow.c.kind)
            .where(TransactionRow.c.member_id == member_id)
            .order_by(TransactionRow.c.id)
        )
        return list(rows.scalars())


async def test_a_forgotten_person_who_starts_again_gets_no_second_signup_bonus(
    uow, program, database
):
    member = await new_member(uow, program, 7)
    await forget(uow, member.id, NOW)
    again = await start(uow, program, 7)
    assert again.created
    assert again.returning
    assert again.bonus == 0
    assert again.member.id != member.id
    assert await balance(uow, again.member) == 0
    assert await kinds_of(database, again.member.id) == []
    await forget(uow, again.member.id, LATER)  # and again: still nothing
    third = await start(uow, program, 7, now=LATER + timedelta(hours=1))
    assert (third.created, third.returning, third.bonus) == (True, True, 0)
    assert await check_invariants(database) == []


async def test_someone_else_still_gets_the_signup_bonus(uow, program):
    member = await new_member(uow, program, 7)
    await forget(uow, member.id, NOW)
    other = await start(uow, program, 8)
    assert (other.returning, other.bonus) == (False, 50)


async def test_a_returning_person_uses_the_program_normally(uow, program, database):
    member = await new_member(uow, program, 7)
    await forget(uow, member.id, NOW)
    again = (await start(uow, program, 7)).member
    outcome = await buy(uow, program, again, "R-1", PRICEY, now=LATER)
    assert outcome.points == 405
    assert await balance(uow, again) == 405
    redeemed = await redeem_reward(uow, program, member_id=again.id, reward_id="coffee", now=LATER)
    assert redeemed.balance == 255
    assert await check_invariants(database) == []


async def test_a_returning_person_is_not_attributed_to_a_referrer(uow, program, database):
    alice = await new_member(uow, program, 1)
    bob = await new_member(uow, program, 2, referral_code=alice.code)
    await buy(uow, program, bob, "B-1", line("X", "coffee", 1, "1.00"))
    assert await balance(uow, alice) == 150  # 50 + Bob qualified
    await forget(uow, bob.id, NOW)
    again = await start(uow, program, 2, code=alice.code)
    assert again.created
    assert again.referral == "returning"
    assert again.bonus == 0  # neither signup nor invitee bonus
    assert again.member.referrer_id is None
    await buy(uow, program, again.member, "B-2", line("X", "coffee", 1, "1.00"), now=LATER)
    assert await balance(uow, alice) == 150  # no second referrer bonus
    async with uow:
        assert await uow.referrals.count(alice.id) == 1
        assert await uow.referrals.count(alice.id, "rewarded") == 1
    assert await check_invariants(database) == []


async def test_a_returning_person_does_not_use_up_a_referrers_daily_cap(uow, program):
    capped = replace(program, referrals=replace(program.referrals, daily_cap=1, qualify_on="join"))
    alice = await new_member(uow, capped, 1)
    bob = await new_member(uow, capped, 2)
    await forget(uow, bob.id, NOW)
    await start(uow, capped, 2, code=alice.code)  # returning: not a friend of Alice's
    carol = await start(uow, capped, 3, code=alice.code)
    assert carol.referrer_reward is not None
    assert carol.referrer_reward.status == "rewarded"


async def test_a_referrer_who_comes_back_gets_no_milestone_twice(uow, program, database):
    program = replace(
        program,
        referrals=replace(program.referrals, milestones=(Milestone(3, 300), Milestone(5, 1000))),
    )
    alice = await new_member(uow, program, 1)
    for friend in (2, 3, 4):  # the third qualified friend reaches the 300-point milestone
        member = await new_member(uow, program, friend, referral_code=alice.code)
        await buy(uow, program, member, f"r{friend}", line("X", "coffee", 1, "1.00"))
    assert await balance(uow, alice) == 50 + 3 * 100 + 300
    await forget(uow, alice.id, NOW)
    again = (await start(uow, program, 1)).member
    stats = await referral_stats(uow, program, again.id)
    assert (stats.joined, stats.rewarded) == (3, 3)
    assert stats.next_milestone is not None
    assert stats.next_milestone.count == 5
    for friend in (5, 6):  # friends four and five: the 5-friend milestone, not the 3 again
        member = await new_member(uow, program, friend, referral_code=again.code, now=LATER)
        outcome = await buy(
            uow, program, member, f"r{friend}", line("X", "coffee", 1, "1.00"), now=LATER
        )
        assert outcome.referral_reward is not None
        bonuses = outcome.referral_reward.milestone_bonuses
        assert bonuses == (() if friend == 5 else (1000,))
    assert await balance(uow, again) == 2 * 100 + 1000
    await forget(uow, again.id, LATER)  # the count adds up over every account
    third = (await start(uow, program, 1, now=LATER + timedelta(hours=1))).member
    assert (await referral_stats(uow, program, third.id)).rewarded == 5
    assert await check_invariants(database) == []


async def test_an_old_broadcasts_gift_cannot_be_claimed_again_after_coming_back(
    database, uow, program
):
    member = await new_member(uow, program, 7)
    broadcast_id = await queue_broadcast(
        uow, BroadcastContent("Gift!", button_text="Claim", bonus_points=75), Segment(), "test", NOW
    )
    gift = await claim_gift(uow, program, member_id=member.id, broadcast_id=broadcast_id, now=NOW)
    assert gift.points == 75
    await forget(uow, member.id, NOW)
    again = (await start(uow, program, 7)).member
    try:
        await claim_gift(uow, program, member_id=again.id, broadcast_id=broadcast_id, now=LATER)
    except NotFound:
        pass
    else:
        raise AssertionError("the old button gave its gift again")
    assert await balance(uow, again) == 0
    newer = await queue_broadcast(
        uow,
        BroadcastContent("Another", button_text="Claim", bonus_points=20),
        Segment(),
        "test",
        LATER,
    )
    fresh = await claim_gift(uow, program, member_id=again.id, broadcast_id=newer, now=LATER)
    assert fresh.points == 20  # a broadcast sent to the new account is theirs to claim


async def test_concurrent_starts_of_a_returning_person_grant_nothing(database, program):
    member = await new_member(SqlUnitOfWork(database), program, 9)
    await forget(SqlUnitOfWork(database), member.id, NOW)
    results = await asyncio.gather(*[start(SqlUnitOfWork(database), program, 9) for _ in range(8)])
    assert sum(r.created for r in results) == 1
    assert {r.bonus for r in results} == {0}
    assert len({r.member.id for r in results}) == 1
    assert await kinds_of(database, results[0].member.id) == []
    assert await check_invariants(database) == []


async def test_forget_and_start_at_once_give_one_signup_bonus_in_all(database, program):
    member = await new_member(SqlUnitOfWork(database), program, 9)
    await asyncio.gather(
        forget(SqlUnitOfWork(database), member.id, NOW),
        *[start(SqlUnitOfWork(database), program, 9) for _ in range(4)],
    )
    async with database.reader.connect() as conn:
        signups = (
            await conn.execute(select(TransactionRow.c.id).where(TransactionRow.c.kind == "signup"))
        ).all()
    assert len(signups) == 1
    assert await check_invariants(database) == []


async def test_only_a_keyed_hash_of_the_telegram_id_is_kept(uow, program, database):
    telegram_id = 5_123_456_789
    first = await new_member(uow, program, telegram_id)
    other = await new_member(uow, program, 11)
    await forget(uow, first.id, NOW)
    await forget(uow, other.id, NOW)  # the key is made once and used for every hash
    async with database.reader.connect() as conn:
        keys = (await conn.execute(select(InstallationKeyRow))).all()
        hashes = set((await conn.execute(select(ForgottenMemberRow.c.telegram_hash))).scalars())
        every_value = [
            value
            for table in metadata.sorted_tables
            for row in (await conn.execute(select(table))).all()
            for value in row
        ]
    assert [(k.name, len(k.secret)) for k in keys] == [("forgotten_members", 64)]
    key = bytes.fromhex(keys[0].secret)
    assert hashes == {
        hmac.new(key, str(n).encode(), hashlib.sha256).hexdigest() for n in (telegram_id, 11)
    }
    assert hashlib.sha256(str(telegram_id).encode()).hexdigest() not in hashes
    assert not any(str(telegram_id) in str(value) for value in every_value)
