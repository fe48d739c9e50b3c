"""Recording receipts (idempotency, conflicts, tiers) and proportional refunds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from domain.errors import Conflict, InvalidRequest, NotFound, RefundExceedsReceipt
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase, refund_purchase
from domain.services.rewards import redeem_reward
from domain.services.tiering import review_tiers
from storage.checks import check_invariants
from tests.conftest import NOW
from tests.integration.helpers import balance, buy, line, new_member

EXAMPLE = (
    line("SNEAKER", "shoes", 1, "100.00"),
    line("LATTE", "coffee", 2, "4.50"),
    line("BEANS-1KG", "coffee", 1, "18.00"),
)


async def test_worked_example_of_the_issue(uow, program, database):
    member = await new_member(uow, program, 1)
    outcome = await buy(uow, program, member, "R-1", *EXAMPLE)
    assert outcome.points == 252
    assert outcome.answer["tier_credits"] == 127
    assert outcome.answer["balance"] == 302
    assert outcome.answer["member_code"] == member.code
    reasons = [(g["reason"], g["detail"], g["points"]) for g in outcome.answer["breakdown"]]
    assert reasons == [
        ("spend", "shoes", "200.00"),
        ("spend", "coffee", "27.00"),
        ("item", "BEANS-1KG", "20.00"),
        ("visit", "", "5.00"),
        ("tier_multiplier", "Member", "1.0"),
    ]
    assert await check_invariants(database) == []


async def test_the_same_receipt_twice_awards_once_and_answers_the_same(uow, program):
    member = await new_member(uow, program, 1)
    first = await buy(uow, program, member, "R-1", *EXAMPLE)
    again = await buy(uow, program, member, "R-1", *EXAMPLE)
    assert again.replayed
    assert again.answer == first.answer
    assert await balance(uow, member) == 302


async def test_a_different_body_under_a_used_receipt_id_is_a_conflict(uow, program):
    member = await new_member(uow, program, 1)
    await buy(uow, program, member, "R-1", *EXAMPLE)
    with pytest.raises(Conflict):
        await buy(uow, program, member, "R-1", line("LATTE", "coffee", 1, "4.50"))
    assert await balance(uow, member) == 302


async def test_receipt_ids_are_per_merchant(uow, program):
    member = await new_member(uow, program, 1)
    await buy(uow, program, member, "R-1", line("X", "coffee", 1, "10"))
    assert member.code is not None
    other = await record_purchase(
        uow,
        program,
        ReceiptIn("R-1", MemberRef("member_code", member.code), [line("X", "coffee", 1, "10")]),
        now=NOW,
        merchant="outlet",
    )
    assert not other.replayed
    assert await balance(uow, member) == 50 + 15 + 15


@pytest.mark.parametrize(
    "bad_lines",
    [
        [],
        [line("X", "coffee", 0, "1.00")],
        [line("X", "coffee", 1, "-1.00")],
        [line("", "coffee", 1, "1.00")],
        [line("X", "coffee", 1, "1.00001")],
    ],
)
async def test_impossible_receipts_are_refused(uow, program, bad_lines):
    member = await new_member(uow, program, 1)
    with pytest.raises(InvalidRequest):
        await buy(uow, program, member, "R-1", *bad_lines)
    assert await balance(uow, member) == 50


async def test_unknown_member_and_future_dates_are_refused(uow, program):
    with pytest.raises(NotFound):
        await record_purchase(
            uow,
            program,
            ReceiptIn("R", MemberRef("member_code", "ZZZZZZZZ"), [line("X", "coffee", 1, "1")]),
            now=NOW,
        )
    member = await new_member(uow, program, 1)
    assert member.code is not None
    with pytest.raises(InvalidRequest):
        await record_purchase(
            uow,
            program,
            ReceiptIn(
                "R",
                MemberRef("member_code", member.code),
                [line("X", "coffee", 1, "1")],
                NOW + timedelta(days=1),
            ),
            now=NOW,
        )


async def test_tier_rises_at_once_and_multiplies_the_next_purchase(uow, program):
    member = await new_member(uow, program, 1)
    upgrade = await buy(uow, program, member, "R-1", line("X", "coffee", 1, "500.00"))
    assert upgrade.points == 505  # earned at the Member multiplier
    assert upgrade.tier_before == "Member"
    assert upgrade.tier == "Insider"
    next_one = await buy(uow, program, member, "R-2", line("X", "coffee", 1, "100.00"))
    assert next_one.points == 131  # floor((100 + 5) * 1.25)


async def test_tier_falls_only_after_the_grace_period(uow, program):
    member = await new_member(uow, program, 1)
    await buy(uow, program, member, "R-1", line("X", "coffee", 1, "500.00"))
    out_of_window = NOW + timedelta(days=366)
    assert await review_tiers(uow, program, out_of_window) == 0
    async with uow:
        held = await uow.members.get(member.id)
    assert held is not None
    assert held.tier == "Insider"
    assert held.tier_below_since == out_of_window
    assert await review_tiers(uow, program, out_of_window + timedelta(days=30)) == 1
    async with uow:
        dropped = await uow.members.get(member.id)
    assert dropped is not None
    assert dropped.tier == "Member"
    assert dropped.tier_below_since is None


async def test_partial_refunds_add_up_to_a_full_clawback(uow, program, database):
    member = await new_member(uow, program, 1)
    await buy(uow, program, member, "R-1", line("S", "shoes", 1, "100.00"))  # 205 pts, 100 cr
    first = await refund_purchase(
        uow, program, merchant="main", receipt_id="R-1", amount=Decimal("40"), now=NOW
    )
    assert first.refund.points_clawed == 82  # floor(205 * 40 / 100)
    assert first.refund.id > 0
    assert first.refund.credits_clawed == 40
    assert first.balance == 255 - 82
    rest = await refund_purchase(
        uow, program, merchant="main", receipt_id="R-1", amount=Decimal("60"), now=NOW
    )
    assert rest.refund.points_clawed == 123
    assert rest.balance == 50
    assert rest.refunded_total == rest.receipt_total == Decimal(100)
    with pytest.raises(RefundExceedsReceipt):
        await refund_purchase(
            uow, program, merchant="main", receipt_id="R-1", amount=Decimal("0.01"), now=NOW
        )
    async with uow:
        assert await uow.tier_credits.total_since(member.id, NOW - timedelta(days=1)) == 0
    assert await check_invariants(database) == []


async def test_refund_after_spending_records_the_shortfall(uow, program, database):
    member = await new_member(uow, program, 1)
    await buy(uow, program, member, "R-1", line("X", "coffee", 1, "100.00"))  # 105 -> 155
    await redeem_reward(uow, program, member_id=member.id, reward_id="coffee", now=NOW)
    outcome = await refund_purchase(
        uow,
        program,
        merchant="main",
        receipt_id="R-1",
        amount=Decimal("100"),
        now=NOW,
        actor="till-3",
    )
    assert outcome.refund.points_clawed == 5
    assert outcome.refund.points_shortfall == 100
    assert outcome.balance == 0
    assert await check_invariants(database) == []


async def test_refund_with_an_id_is_applied_once(uow, program):
    member = await new_member(uow, program, 1)
    await buy(uow, program, member, "R-1", line("X", "coffee", 1, "100.00"))
    for _ in range(2):
        outcome = await refund_purchase(
            uow,
            program,
            merchant="main",
            receipt_id="R-1",
            amount=Decimal("50"),
            now=NOW,
            refund_id="RF-1",
        )
    assert outcome.replayed
    assert outcome.refunded_total == Decimal(50)
    with pytest.raises(Conflict):
        await refund_purchase(
            uow,
            program,
            merchant="main",
            receipt_id="R-1",
            amount=Decimal("20"),
            now=NOW,
            refund_id="RF-1",
        )


async def test_refund_errors(uow, program):
    with pytest.raises(NotFound):
        await refund_purchase(
            uow, program, merchant="main", receipt_id="nope", amount=Decimal(1), now=NOW
        )
    with pytest.raises(InvalidRequest):
        await refund_purchase(
            uow, program, merchant="main", receipt_id="nope", amount=Decimal(0), now=NOW
        )


async def test_the_longest_receipt_id_fits_everywhere(uow, program, database):
    member = await new_member(uow, program, 1)
    longest = "R" * 120
    await buy(uow, program, member, longest, line("X", "coffee", 1, "10"))
    await refund_purchase(
        uow,
        program,
        merchant="main",
        receipt_id=longest,
        amount=Decimal("5"),
        now=NOW,
        refund_id=longest,
    )
    with pytest.raises(InvalidRequest):
        await buy(uow, program, member, "R" * 121, line("X", "coffee", 1, "10"))
    assert await check_invariants(database) == []
