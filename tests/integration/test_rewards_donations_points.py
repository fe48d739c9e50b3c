"""Redemptions and vouchers, donations, adjustments, expiry per lot, summaries."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.codes import ALPHABET, VOUCHER_CODE_LENGTH
from domain.errors import (
    Conflict,
    InsufficientPoints,
    InvalidRequest,
    NotFound,
    RewardUnavailable,
    VoucherUnusable,
)
from domain.ledger import add_months
from domain.services.donations import causes_overview, donate
from domain.services.points import account_summary, adjust_points, expire_due_points, history
from domain.services.rewards import catalogue, check_voucher, redeem_reward, use_voucher
from storage.checks import check_invariants
from tests.conftest import NOW
from tests.integration.helpers import balance, buy, line, new_member


async def give(uow, program, member, points, now=NOW):
    return await adjust_points(
        uow,
        program,
        member_id=member.id,
        points=points,
        reason="test top-up",
        actor="admin:1",
        now=now,
    )


async def test_redeem_issues_a_voucher_and_spends_the_cost(uow, program, database):
    member = await new_member(uow, program, 1)
    await give(uow, program, member, 100)
    redemption = await redeem_reward(uow, program, member_id=member.id, reward_id="coffee", now=NOW)
    voucher = redemption.voucher
    assert redemption.balance == 0
    assert len(voucher.code) == VOUCHER_CODE_LENGTH
    assert set(voucher.code) <= set(ALPHABET)
    assert voucher.expires_at == NOW + timedelta(days=30)
    assert voucher.state(NOW) == "active"
    assert await check_invariants(database) == []


async def test_not_enough_points_spends_nothing(uow, program, database):
    member = await new_member(uow, program, 1)
    with pytest.raises(InsufficientPoints) as refused:
        await redeem_reward(uow, program, member_id=member.id, reward_id="coffee", now=NOW)
    assert (refused.value.needed, refused.value.available) == (150, 50)
    assert await balance(uow, member) == 50
    async with uow:
        assert await uow.rewards.issued("coffee") == 0
    assert await check_invariants(database) == []


async def test_min_tier_and_per_member_limit(uow, program):
    member = await new_member(uow, program, 1)
    await give(uow, program, member, 2000)
    with pytest.raises(RewardUnavailable) as low:
        await redeem_reward(uow, program, member_id=member.id, reward_id="tote", now=NOW)
    assert low.value.reason == "min_tier"
    await buy(uow, program, member, "R-1", line("X", "coffee", 1, "500"))
    await redeem_reward(uow, program, member_id=member.id, reward_id="tote", now=NOW)
    with pytest.raises(RewardUnavailable) as limit:
        await redeem_reward(uow, program, member_id=member.id, reward_id="tote", now=NOW)
    assert limit.value.reason == "limit"


async def test_the_catalogue_reads_balance_stock_and_limits_in_one_go(uow, program):
    member = await new_member(uow, program, 1)
    await give(uow, program, member, 2000)
    await buy(uow, program, member, "R-1", line("X", "coffee", 1, "500"))
    await redeem_reward(uow, program, member_id=member.id, reward_id="tote", now=NOW)
    async with uow:
        member = await uow.members.get(member.id)  # now an Insider
    shown = await catalogue(uow, program, member)
    entries = {e.reward.id: e for e in shown.entries}
    assert shown.balance == await balance(uow, member)
    assert (entries["tote"].stock_left, entries["tote"].blocked_by) == (24, "limit")
    assert (entries["coffee"].stock_left, entries["coffee"].blocked_by) == (1000, None)
    assert entries["coffee"].affordable


async def test_out_of_stock_refuses_and_keeps_the_points(uow, program, database):
    scarce = replace(program, rewards=(replace(program.rewards[0], stock=1),))
    first, second = await new_member(uow, scarce, 1), await new_member(uow, scarce, 2)
    for member in (first, second):
        await give(uow, scarce, member, 100)
    await redeem_reward(uow, scarce, member_id=first.id, reward_id="coffee", now=NOW)
    with pytest.raises(RewardUnavailable) as empty:
        await redeem_reward(uow, scarce, member_id=second.id, reward_id="coffee", now=NOW)
    assert empty.value.reason == "out_of_stock"
    assert await balance(uow, second) == 150
    entries = {e.reward.id: e for e in (await catalogue(uow, scarce, second)).entries}
    assert entries["coffee"].stock_left == 0
    assert entries["coffee"].blocked_by == "out_of_stock"
    assert await check_invariants(database) == []


async def test_a_repeated_request_returns_the_first_voucher(uow, program):
    member = await new_member(uow, program, 1)
    await give(uow, program, member, 500)
    first = await redeem_reward(
        uow, program, member_id=member.id, reward_id="coffee", now=NOW, request_id="btn-1"
    )
    again = await redeem_reward(
        uow, program, member_id=member.id, reward_id="coffee", now=NOW, request_id="btn-1"
    )
    assert again.replayed
    assert again.voucher.code == first.voucher.code
    assert await balance(uow, member) == 400


async def test_unknown_reward_or_member(uow, program):
    member = await new_member(uow, program, 1)
    with pytest.raises(NotFound):
        await redeem_reward(uow, program, member_id=member.id, reward_id="yacht", now=NOW)
    with pytest.raises(NotFound):
        await redeem_reward(uow, program, member_id=999, reward_id="coffee", now=NOW)


async def test_voucher_use_at_the_till(uow, program):
    member = await new_member(uow, program, 1)
    await give(uow, program, member, 250)
    fresh = await redeem_reward(uow, program, member_id=member.id, reward_id="coffee", now=NOW)
    code = fresh.voucher.code
    typed = f"{code[:4].lower()}-{code[4:8]} {code[8:]}"  # how a cashier may type it
    assert (await check_voucher(uow, typed)).id == fresh.voucher.id
    used = await use_voucher(uow, code=typed, actor="till-1", now=NOW)
    assert used.used_at == NOW
    assert used.used_by == "till-1"
    with pytest.raises(VoucherUnusable) as twice:
        await use_voucher(uow, code=code, actor="till-1", now=NOW)
    assert twice.value.reason == "used"
    stale = await redeem_reward(uow, program, member_id=member.id, reward_id="coffee", now=NOW)
    with pytest.raises(VoucherUnusable) as expired:
        await use_voucher(
            uow, code=stale.voucher.code, actor="till-1", now=NOW + timedelta(days=30)
        )
    assert expired.value.reason == "expired"
    assert await balance(uow, member) == 0  # an expired voucher gives nothing back
    with pytest.raises(NotFound):
        await use_voucher(uow, code="NOPE", actor="till-1", now=NOW)


async def test_donation_moves_points_to_the_cause_with_its_impact(uow, program, database):
    member = await new_member(uow, program, 1)
    await give(uow, program, member, 300)
    outcome = await donate(uow, program, member_id=member.id, cause_id="trees", points=250, now=NOW)
    assert outcome.balance == 100
    assert outcome.progress.points == 250
    assert outcome.member_impact == 2
    outcome = await donate(uow, program, member_id=member.id, cause_id="trees", points=100, now=NOW)
    assert outcome.member_points == 350
    assert outcome.member_impact == 3  # "you planted 3 trees"
    with pytest.raises(InsufficientPoints):
        await donate(uow, program, member_id=member.id, cause_id="trees", points=1, now=NOW)
    with pytest.raises(NotFound):
        await donate(uow, program, member_id=member.id, cause_id="moon", points=1, now=NOW)
    with pytest.raises(InvalidRequest):
        await donate(uow, program, member_id=member.id, cause_id="trees", points=0, now=NOW)
    overview = {p.cause.id: p for p in await causes_overview(uow, program)}
    assert overview["trees"].points == 350
    assert overview["trees"].impact == 3
    assert overview["meals"].points == 0
    assert await check_invariants(database) == []


async def test_adjustments_need_a_reason_and_never_go_below_zero(uow, program, database):
    member = await new_member(uow, program, 1)
    assert await give(uow, program, member, 25) == 75
    assert await give(uow, program, member, -70) == 5
    with pytest.raises(InsufficientPoints):
        await give(uow, program, member, -6)
    with pytest.raises(InvalidRequest):
        await adjust_points(
            uow, program, member_id=member.id, points=5, reason=" ", actor="admin:1", now=NOW
        )
    with pytest.raises(InvalidRequest):
        await give(uow, program, member, 0)
    async with uow:
        records = await uow.ledger.history(member.id, 10, 0)
    assert [(r.kind, r.points, r.reason) for r in records[:2]] == [
        ("adjustment", -70, "test top-up"),
        ("adjustment", 25, "test top-up"),
    ]
    assert await check_invariants(database) == []


async def test_each_lot_expires_on_its_own_and_spends_take_the_soonest_first(
    uow, program, database
):
    member = await new_member(uow, program, 1)  # 50, expiring NOW + 12 months
    later = add_months(NOW, 6)
    await give(uow, program, member, 100, now=later)  # expiring NOW + 18 months
    await donate(
        uow, program, member_id=member.id, cause_id="trees", points=30, now=add_months(NOW, 7)
    )
    async with uow:
        lots = await uow.ledger.open_lots(member.id)
    assert [lot.remaining for lot in lots] == [20, 100]
    run = await expire_due_points(uow, add_months(NOW, 12) - timedelta(seconds=1))
    assert (run.lots, run.points) == (0, 0)
    run = await expire_due_points(uow, add_months(NOW, 12))
    assert (run.lots, run.points, run.members) == (1, 20, 1)
    assert await balance(uow, member) == 100
    run = await expire_due_points(uow, add_months(NOW, 12))
    assert run.lots == 0
    async with uow:
        newest = (await uow.ledger.history(member.id, 1, 0))[0]
    assert (newest.kind, newest.points) == ("expiry", -20)
    assert await check_invariants(database) == []


async def test_expiry_runs_in_batches(uow, program, database):
    for telegram_id in range(1, 8):
        await new_member(uow, program, telegram_id)
    run = await expire_due_points(uow, add_months(NOW, 13), batch=3)
    assert (run.lots, run.points, run.members) == (7, 350, 7)
    assert await check_invariants(database) == []


async def test_account_summary_and_history_pages(uow, program):
    member = await new_member(uow, program, 1)
    await buy(uow, program, member, "R-1", line("X", "coffee", 1, "95.00"))  # 100 -> 150
    summary = await account_summary(uow, program, member.id, NOW)
    assert summary.balance == 150
    assert summary.progress.next_tier == "Insider"
    assert summary.progress.credits_needed == 405
    assert summary.progress.percent == 19
    assert summary.next_reward is not None
    assert summary.next_reward.id == "off10"  # coffee is affordable; tote needs Insider
    assert summary.expiring_points == 0
    soon = await account_summary(uow, program, member.id, add_months(NOW, 12) - timedelta(days=10))
    assert soon.expiring_points == 150
    assert soon.expiring_first == add_months(NOW, 12)
    for i in range(12):
        await give(uow, program, member, i + 1)
    page = await history(uow, member.id, page=1, page_size=5)
    assert (page.page, page.pages, len(page.records)) == (1, 3, 5)
    assert page.records[0].points == 12
    last = await history(uow, member.id, page=9, page_size=5)
    assert (last.page, len(last.records)) == (3, 4)
    assert last.records[-1].kind == "signup"


async def test_a_request_id_reused_for_something_else_is_a_conflict(uow, program):
    member = await new_member(uow, program, 1)
    await give(uow, program, member, 2000)
    await redeem_reward(
        uow, program, member_id=member.id, reward_id="coffee", now=NOW, request_id="X"
    )
    with pytest.raises(Conflict):
        await redeem_reward(
            uow, program, member_id=member.id, reward_id="off10", now=NOW, request_id="X"
        )
    await donate(
        uow, program, member_id=member.id, cause_id="trees", points=10, now=NOW, request_id="Y"
    )
    with pytest.raises(Conflict):
        await donate(
            uow, program, member_id=member.id, cause_id="meals", points=999, now=NOW, request_id="Y"
        )
    assert await balance(uow, member) == 2050 - 150 - 10
