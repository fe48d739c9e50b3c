"""Joining, referrals (bonuses, milestones, daily cap), settings and forgetting."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from domain.codes import ALPHABET, MEMBER_CODE_LENGTH
from domain.errors import InvalidRequest, NotFound
from domain.services.members import forget, join, pick_locale, update_settings
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase
from storage.checks import check_invariants
from tests.conftest import NOW
from tests.integration.helpers import balance, buy, line, new_member


async def test_join_grants_signup_bonus_and_a_readable_code(uow, program, database):
    result = await join(
        uow, program, telegram_id=7, first_name="Ana <b>", language_code="es-MX", now=NOW
    )
    member = result.member
    assert result.created
    assert result.bonus == 50
    assert member.code is not None
    assert len(member.code) == MEMBER_CODE_LENGTH
    assert set(member.code) <= set(ALPHABET)
    assert member.tier == "Member"
    assert member.locale == "es"
    assert member.first_name == "Ana <b>"
    assert await balance(uow, member) == 50
    assert await check_invariants(database) == []


async def test_joining_again_greets_the_same_member_without_a_second_bonus(uow, program):
    first = await join(uow, program, telegram_id=7, first_name="A", language_code=None, now=NOW)
    again = await join(uow, program, telegram_id=7, first_name="A", language_code=None, now=NOW)
    assert not again.created
    assert again.bonus == 0
    assert again.member.id == first.member.id
    assert await balance(uow, first.member) == 50


async def test_concurrent_starts_create_one_member(database, program):
    from storage.uow import SqlUnitOfWork

    results = await asyncio.gather(
        *[
            join(
                SqlUnitOfWork(database),
                program,
                telegram_id=9,
                first_name="B",
                language_code="en",
                now=NOW,
            )
            for _ in range(8)
        ]
    )
    assert sum(r.created for r in results) == 1
    assert len({r.member.id for r in results}) == 1
    assert await check_invariants(database) == []


def test_locale_falls_back_to_the_programs_first(program):
    assert pick_locale(program, "de") == "en"
    assert pick_locale(program, None) == "en"
    assert pick_locale(program, "es") == "es"


async def test_referral_bonuses_invitee_on_join_referrer_on_first_purchase(uow, program, database):
    alice = await new_member(uow, program, 1)
    joined = await join(
        uow,
        program,
        telegram_id=2,
        first_name="Bob",
        language_code="en",
        now=NOW,
        referral_code=alice.code,
    )
    bob = joined.member
    assert joined.referral == "attributed"
    assert joined.bonus == 100  # signup 50 + invitee 50
    assert bob.referrer_id == alice.id
    assert await balance(uow, alice) == 50  # not yet: Bob has not bought anything

    first = await buy(uow, program, bob, "r1", line("LATTE", "coffee", 1, "10.00"))
    assert first.referral_reward is not None
    assert first.referral_reward.bonus == 100
    assert await balance(uow, alice) == 150
    await buy(uow, program, bob, "r2", line("LATTE", "coffee", 1, "10.00"))
    assert await balance(uow, alice) == 150  # only the first purchase qualifies
    assert await balance(uow, bob) == 100 + 15 + 15
    assert await check_invariants(database) == []


async def test_third_qualified_friend_reaches_the_milestone(uow, program, database):
    alice = await new_member(uow, program, 1)
    for friend in (2, 3, 4):
        member = await new_member(uow, program, friend, referral_code=alice.code)
        await buy(uow, program, member, f"r{friend}", line("LATTE", "coffee", 1, "1.00"))
    assert await balance(uow, alice) == 50 + 3 * 100 + 300
    async with uow:
        assert await uow.referrals.count(alice.id, "rewarded") == 3
    assert await check_invariants(database) == []


async def test_referral_on_join_when_the_program_says_so(uow, program):
    on_join = replace(program, referrals=replace(program.referrals, qualify_on="join"))
    alice = await new_member(uow, on_join, 1)
    result = await join(
        uow,
        on_join,
        telegram_id=2,
        first_name="B",
        language_code="en",
        now=NOW,
        referral_code=alice.code,
    )
    assert result.referrer_reward is not None
    assert await balance(uow, alice) == 150


async def test_bad_codes_still_let_people_join(uow, program):
    alice = await new_member(uow, program, 1)
    unknown = await join(
        uow,
        program,
        telegram_id=2,
        first_name="B",
        language_code="en",
        now=NOW,
        referral_code="ZZZZZZZZ",
    )
    assert unknown.created
    assert unknown.referral == "unknown_code"
    assert unknown.member.referrer_id is None
    own = await join(
        uow,
        program,
        telegram_id=1,
        first_name="A",
        language_code="en",
        now=NOW,
        referral_code=alice.code,
    )
    assert own.referral == "own_code"
    assert not own.created


async def test_an_existing_member_is_never_re_attributed(uow, program):
    alice = await new_member(uow, program, 1)
    bob = await new_member(uow, program, 2)
    again = await join(
        uow,
        program,
        telegram_id=2,
        first_name="B",
        language_code="en",
        now=NOW,
        referral_code=alice.code,
    )
    assert again.referral == "already_member"
    assert again.member.referrer_id is None
    await buy(uow, program, bob, "r1", line("LATTE", "coffee", 1, "5.00"))
    assert await balance(uow, alice) == 50


async def test_daily_cap_limits_rewarded_referrals_per_local_day(uow, program, database):
    capped = replace(program, referrals=replace(program.referrals, daily_cap=1))
    alice = await new_member(uow, capped, 1)
    bob = await new_member(uow, capped, 2, referral_code=alice.code)
    carol = await new_member(uow, capped, 3, referral_code=alice.code)
    dave = await new_member(uow, capped, 4, referral_code=alice.code)
    await buy(uow, capped, bob, "b", line("X", "coffee", 1, "1.00"))
    capped_outcome = await buy(uow, capped, carol, "c", line("X", "coffee", 1, "1.00"))
    assert capped_outcome.referral_reward is not None
    assert capped_outcome.referral_reward.status == "capped"
    assert await balance(uow, alice) == 150
    await buy(uow, capped, dave, "d", line("X", "coffee", 1, "1.00"), now=NOW + timedelta(days=1))
    assert await balance(uow, alice) == 250
    assert await check_invariants(database) == []


async def test_settings_and_phone_lookup(uow, program):
    member = await new_member(uow, program, 1)
    updated = await update_settings(
        uow,
        member.id,
        phone="1 (555) 000-1234",
        locale="es",
        marketing_opt_in=False,
        timezone="Europe/Madrid",
    )
    assert updated.phone == "+15550001234"
    assert updated.timezone == "Europe/Madrid"
    assert not updated.marketing_opt_in
    outcome = await record_purchase(
        uow,
        program,
        ReceiptIn("p1", MemberRef("phone", "+1 555 000 1234"), [line("X", "coffee", 1, "2.00")]),
        now=NOW,
    )
    assert outcome.points == 7
    with pytest.raises(InvalidRequest):
        await update_settings(uow, member.id, phone="call me")
    with pytest.raises(InvalidRequest):
        await update_settings(uow, member.id, timezone="Mars/Olympus")


async def test_forget_erases_personal_data_and_keeps_an_anonymous_ledger(uow, program, database):
    member = await new_member(uow, program, 1)
    await update_settings(uow, member.id, phone="+15550001234")
    await buy(uow, program, member, "r1", line("X", "coffee", 1, "10.00"))
    forfeited = await forget(uow, member.id, NOW)
    assert forfeited == 65
    async with uow:
        gone = await uow.members.get(member.id)
        assert gone is not None
        assert (gone.code, gone.telegram_id, gone.first_name, gone.phone) == (None,) * 4
        assert await uow.ledger.balance(member.id) == 0
        assert await uow.ledger.count_transactions(member.id) == 3
        assert await uow.members.by_telegram_id(1) is None
    with pytest.raises(NotFound):
        await forget(uow, member.id, NOW)
    rejoined = await join(uow, program, telegram_id=1, first_name="A", language_code="en", now=NOW)
    assert rejoined.created
    assert rejoined.member.id != member.id
    assert await check_invariants(database) == []
