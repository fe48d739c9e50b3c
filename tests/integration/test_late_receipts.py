"""A receipt the till sends late counts from when the purchase happened, not when it came.

Its points are dated by `occurred_at` in the history and expire `expiry.months` after it;
when that is already past, the receipt earns no points to spend. Its tier credits are
dated by it (the rolling window decides), and a friend's first purchase qualifies them on
the day it happened (the referrer's daily cap counts that day).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from domain.ledger import add_months
from domain.services.points import account_summary, expire_due_points, history
from domain.services.purchases import (
    MemberRef,
    ReceiptIn,
    record_purchase,
    record_purchases,
    refund_purchase,
)
from storage.checks import check_invariants
from tests.conftest import NOW
from tests.integration.helpers import balance, line, new_member

COFFEE = line("LATTE", "coffee", 2, "10.00")  # 20 + 5 visit = 25 points, 20 credits


async def late(uow, program, member, receipt_id, occurred_at, *lines, now=NOW):
    assert member.code is not None
    return await record_purchase(
        uow,
        program,
        ReceiptIn(
            receipt_id, MemberRef("member_code", member.code), list(lines or (COFFEE,)), occurred_at
        ),
        now=now,
    )


async def test_history_dates_a_late_receipt_by_when_it_happened(uow, program, database):
    member = await new_member(uow, program, 1, now=NOW - timedelta(days=30))  # signup
    await late(uow, program, member, "TODAY", None)
    await late(uow, program, member, "LAST-WEEK", NOW - timedelta(days=7))  # sent after
    page = await history(uow, member.id)
    assert [(r.kind, r.created_at) for r in page.records] == [
        ("purchase", NOW),
        ("purchase", NOW - timedelta(days=7)),
        ("signup", NOW - timedelta(days=30)),
    ]
    assert await check_invariants(database) == []


async def test_a_late_receipts_points_expire_counted_from_the_purchase(uow, program, database):
    member = await new_member(uow, program, 1)
    occurred = NOW - timedelta(days=100)
    await late(uow, program, member, "R-1", occurred)
    async with uow:
        lots = {lot.remaining: lot.expires_at for lot in await uow.ledger.open_lots(member.id)}
    assert lots == {50: add_months(NOW, 12), 25: add_months(occurred, 12)}
    summary = await account_summary(
        uow, program, member.id, add_months(occurred, 12) - timedelta(days=1)
    )
    assert (summary.expiring_points, summary.expiring_first) == (25, add_months(occurred, 12))
    run = await expire_due_points(uow, add_months(occurred, 12))
    assert (run.lots, run.points) == (1, 25)
    assert await balance(uow, member) == 50
    assert await check_invariants(database) == []


async def test_a_receipt_older_than_the_expiry_earns_no_points_to_spend(uow, program, database):
    member = await new_member(uow, program, 1)
    occurred = NOW - timedelta(days=400)  # 13 months ago, under a 12-month expiry
    outcome = await late(uow, program, member, "OLD", occurred)
    assert outcome.points == 0
    assert outcome.answer["tier_credits"] == 20  # dated 400 days ago: outside the window
    assert outcome.answer["balance"] == 50
    assert [(g["reason"], g["points"]) for g in outcome.answer["breakdown"]] == [
        ("spend", "20.00"),
        ("visit", "5.00"),
        ("expired", "-25.00"),
        ("tier_multiplier", "1.0"),
    ]
    assert outcome.answer["breakdown"][2]["detail"] == add_months(occurred, 12).isoformat()
    async with uow:
        assert len(await uow.ledger.open_lots(member.id)) == 1  # the signup bonus only
        assert await uow.outbox.pending(10) == []  # nothing earned, nothing to tell
    refund = await refund_purchase(
        uow, program, merchant="main", receipt_id="OLD", amount=COFFEE.amount, now=NOW
    )
    assert (refund.refund.points_clawed, refund.refund.points_shortfall) == (0, 0)
    assert await balance(uow, member) == 50  # the refund takes nothing from other points
    summary = await account_summary(uow, program, member.id, NOW)
    assert summary.progress.credits == 0
    assert await check_invariants(database) == []


async def test_the_expiry_edge_a_second_either_side(uow, program):
    member = await new_member(uow, program, 1)
    edge = add_months(NOW, -12)  # points of a purchase at `edge` expire exactly now
    assert (await late(uow, program, member, "AT", edge)).points == 0
    assert (await late(uow, program, member, "AFTER", edge + timedelta(seconds=1))).points == 25


async def test_first_purchase_is_when_it_happened(uow, program):
    member = await new_member(uow, program, 1, now=NOW - timedelta(days=20))
    await late(uow, program, member, "R-1", NOW - timedelta(days=10))
    async with uow:
        stored = await uow.members.get(member.id)
    assert stored is not None
    assert stored.first_purchase_at == NOW - timedelta(days=10)


async def test_bulk_first_purchases_keep_each_members_own_date(uow, program):
    ann = await new_member(uow, program, 1, now=NOW - timedelta(days=20))
    bob = await new_member(uow, program, 2, now=NOW - timedelta(days=20))
    receipts = [
        ReceiptIn(
            f"R-{m.id}", MemberRef("member_code", str(m.code)), [COFFEE], NOW - timedelta(days=days)
        )
        for m, days in ((ann, 3), (bob, 5))
    ]
    await record_purchases(uow, program, receipts, now=NOW)
    async with uow:
        firsts = [(await uow.members.get(m.id)).first_purchase_at for m in (ann, bob)]
    assert firsts == [NOW - timedelta(days=3), NOW - timedelta(days=5)]


async def test_friends_who_bought_on_different_days_count_on_their_own_days(uow, program, database):
    capped = replace(program, referrals=replace(program.referrals, daily_cap=1))
    alice = await new_member(uow, capped, 1, now=NOW - timedelta(days=5))
    bob = await new_member(uow, capped, 2, referral_code=alice.code, now=NOW - timedelta(days=5))
    carol = await new_member(uow, capped, 3, referral_code=alice.code, now=NOW - timedelta(days=5))
    # the till sends both first purchases today, made two days apart
    first = await late(uow, capped, bob, "B", NOW - timedelta(days=3))
    second = await late(uow, capped, carol, "C", NOW - timedelta(days=1))
    assert first.referral_reward is not None
    assert second.referral_reward is not None
    assert (first.referral_reward.status, second.referral_reward.status) == ("rewarded", "rewarded")
    assert await balance(uow, alice) == 50 + 2 * 100
    dave = await new_member(uow, capped, 4, referral_code=alice.code, now=NOW - timedelta(days=5))
    same_day = await late(uow, capped, dave, "D", NOW - timedelta(days=1, hours=1))
    assert same_day.referral_reward is not None
    assert same_day.referral_reward.status == "capped"  # Carol already counted that day
    assert await check_invariants(database) == []
