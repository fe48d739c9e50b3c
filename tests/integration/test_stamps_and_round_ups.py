"""Stamp cards, round-up donations and referral milestone vouchers on the purchase path,
with hand-computed numbers on both databases.

The bundled program: 1 point per unit of money, 5 per visit, shoes x2, floor; members
start with a 50-point signup bonus. A latte is 4.50 in category coffee.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from domain.metrics import RewardFigures
from domain.program import DonationRules, Milestone, Program, StampCard
from domain.services.metrics import program_metrics
from domain.services.notifications import pending_notifications
from domain.services.points import adjust_points
from domain.services.purchases import MemberRef, ReceiptIn, record_purchases, refund_purchase
from domain.services.rewards import redeem_reward
from domain.services.round_ups import choose_round_up, round_up_cause
from domain.services.stamp_cards import member_cards
from storage.checks import check_invariants
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.integration.helpers import balance, buy, line, new_member

CARD = StampCard(
    id="coffee-card", title="Coffee card", count=6, reward="coffee", categories=("coffee",)
)
VISITS = StampCard(id="visits", title="Visits", count=3, reward="tote", per="receipt")


def latte(quantity: int) -> object:
    """`quantity` lattes at 4.50."""
    return line("LATTE", "coffee", quantity, "4.50")


@pytest.fixture
def stamped(program: Program) -> Program:
    """The bundled program with a six-stamp coffee card (a free coffee)."""
    return replace(program, stamps=(CARD,))


async def vouchers(uow: SqlUnitOfWork, member_id: int) -> list[tuple[str, str | None]]:
    """The member's vouchers as (reward, request id), oldest first."""
    async with uow:
        found = await uow.rewards.member_vouchers(member_id)
    return sorted((v.reward_id, v.request_id) for v in found)


async def refund(uow: SqlUnitOfWork, program: Program, receipt: str, amount: str) -> int:
    """Refund `amount` of a receipt; the points it took back."""
    done = await refund_purchase(
        uow, program, merchant="main", receipt_id=receipt, amount=Decimal(amount), now=NOW
    )
    return done.refund.points_clawed


async def test_stamps_fill_a_card_carry_over_and_refunds_take_them_back(uow, stamped, database):
    member = await new_member(uow, stamped, 1)
    first = await buy(uow, stamped, member, "R-1", latte(4))  # 18.00 + 5: 23 points
    assert first.points == 23
    assert first.answer["stamps"] == [
        {"card": "coffee-card", "earned": 4, "stamps": 4, "count": 6, "vouchers": []}
    ]
    # 3 lattes (13.50) and sneakers (100 x 2): 218 points; 4 + 3 = 7 stamps fill the card
    second = await buy(uow, stamped, member, "R-2", latte(3), line("SNEAKER", "shoes", 1, "100.00"))
    assert second.points == 218
    (shown,) = second.answer["stamps"]
    assert (shown["earned"], shown["stamps"], shown["count"]) == (3, 1, 6)
    (voucher,) = shown["vouchers"]
    assert voucher["reward"] == "coffee"
    assert voucher["code"]
    assert voucher["expires_on"] == "2026-04-01"  # 30 days on, the day in New York
    assert await vouchers(uow, member.id) == [("coffee", "stamp:coffee-card:1")]
    assert await balance(uow, member) == 50 + 23 + 218
    assert await member_cards(uow, stamped, member.id) == [(CARD, 1)]

    # half of R-1 back: floor(4 x 9 / 18) = 2 stamps from the 1 on the card: 0, not -1
    assert await refund(uow, stamped, "R-1", "9.00") == 11  # floor(23 x 9 / 18)
    assert await member_cards(uow, stamped, member.id) == [(CARD, 0)]
    # stamps go back in proportion to the money, like points: 13.50 of R-2's 113.50 is
    # floor(3 x 13.5 / 113.5) = 0 stamps; the rest of it, 3 - 0; the card stays at 0
    assert await refund(uow, stamped, "R-2", "13.50") == 25  # floor(218 x 13.5 / 113.5)
    assert await refund(uow, stamped, "R-2", "100.00") == 218 - 25
    assert await member_cards(uow, stamped, member.id) == [(CARD, 0)]
    assert await vouchers(uow, member.id) == [("coffee", "stamp:coffee-card:1")]

    # 13 lattes: two more full cards and 1 stamp over; the vouchers are the 2nd and 3rd
    third = await buy(uow, stamped, member, "R-3", latte(13))
    (shown,) = third.answer["stamps"]
    assert (shown["earned"], shown["stamps"], len(shown["vouchers"])) == (13, 1, 2)
    assert await vouchers(uow, member.id) == [
        ("coffee", "stamp:coffee-card:1"),
        ("coffee", "stamp:coffee-card:2"),
        ("coffee", "stamp:coffee-card:3"),
    ]
    # 4 more: 1 + 4 = 5 on the card; half of them back: 5 - floor(4 x 9 / 18) = 3
    await buy(uow, stamped, member, "R-4", latte(4))
    await refund(uow, stamped, "R-4", "9.00")
    assert await member_cards(uow, stamped, member.id) == [(CARD, 3)]
    async with uow:
        assert await uow.rewards.issued("coffee") == 3
    assert await check_invariants(database) == []


async def test_a_card_per_receipt_and_lines_that_earn_no_stamp(uow, program):
    card_program = replace(program, stamps=(CARD, VISITS))
    member = await new_member(uow, card_program, 1)
    shoes = await buy(uow, card_program, member, "R-1", line("SNEAKER", "shoes", 2, "50.00"))
    assert shoes.answer["stamps"] == [
        {"card": "visits", "earned": 1, "stamps": 1, "count": 3, "vouchers": []}
    ]
    both = await buy(uow, card_program, member, "R-2", latte(2), line("S", "shoes", 1, "9"))
    assert [(s["card"], s["earned"], s["stamps"]) for s in both.answer["stamps"]] == [
        ("coffee-card", 2, 2),
        ("visits", 1, 2),
    ]
    assert await member_cards(uow, card_program, member.id) == [(CARD, 2), (VISITS, 2)]


async def test_without_stamp_cards_the_answer_is_unchanged(uow, program):
    member = await new_member(uow, program, 1)
    outcome = await buy(uow, program, member, "R-1", latte(2))
    assert "stamps" not in outcome.answer
    assert "round_up" not in outcome.answer


async def test_two_purchases_at_once_that_could_fill_the_card_issue_one_voucher(database, stamped):
    member = await new_member(SqlUnitOfWork(database), stamped, 1)
    await buy(SqlUnitOfWork(database), stamped, member, "R-0", latte(5))  # 5 of 6
    outcomes = await asyncio.gather(
        buy(SqlUnitOfWork(database), stamped, member, "R-1", latte(1)),
        buy(SqlUnitOfWork(database), stamped, member, "R-2", latte(1)),
    )
    issued = [len(o.answer["stamps"][0]["vouchers"]) for o in outcomes]
    assert sorted(issued) == [0, 1]
    assert sorted(o.answer["stamps"][0]["stamps"] for o in outcomes) == [0, 1]
    uow = SqlUnitOfWork(database)
    assert await vouchers(uow, member.id) == [("coffee", "stamp:coffee-card:1")]
    assert await member_cards(uow, stamped, member.id) == [(CARD, 1)]
    assert await check_invariants(database) == []


async def test_a_card_whose_reward_is_out_of_stock_fills_without_a_voucher(uow, program):
    sold_out = replace(
        program,
        stamps=(replace(CARD, count=1),),
        rewards=tuple(replace(r, stock=1) if r.id == "coffee" else r for r in program.rewards),
    )
    member = await new_member(uow, sold_out, 1)
    first = await buy(uow, sold_out, member, "R-1", latte(2))
    codes = [v["code"] for v in first.answer["stamps"][0]["vouchers"]]
    assert len(codes) == 2
    assert codes[0] is not None
    assert codes[1] is None
    assert await vouchers(uow, member.id) == [("coffee", "stamp:coffee-card:1")]


async def test_a_round_up_donates_the_remainder_and_a_refund_stays_consistent(
    uow, program, database
):
    member = await new_member(uow, program, 1)
    await choose_round_up(uow, program, member_id=member.id, cause_id="trees", now=NOW)
    assert (await round_up_cause(uow, program, member.id)).id == "trees"
    # 32.00 of coffee + 5 per visit: 37 earned, 30 kept, 7 to the trees
    outcome = await buy(uow, program, member, "R-1", line("BAG", "coffee", 1, "32.00"))
    assert outcome.points == 37
    assert outcome.answer["round_up"] == {"cause": "trees", "kept": 30, "donated": 7}
    assert outcome.answer["balance"] == 80
    assert await balance(uow, member) == 50 + 30
    async with uow:
        assert await uow.causes.total("trees") == 7
        assert await uow.causes.member_total(member.id, "trees") == 7
    # half back: floor(30 x 16 / 32) = 15 of the points kept; the 7 given stay given
    assert await refund(uow, program, "R-1", "16.00") == 15
    assert await refund(uow, program, "R-1", "16.00") == 15
    assert await balance(uow, member) == 50
    async with uow:
        assert await uow.causes.total("trees") == 7
    assert await check_invariants(database) == []

    # 10.00: 15 points, 10 kept, 5 donated; then stopped: 15 kept whole
    await buy(uow, program, member, "R-2", line("BAG", "coffee", 1, "10.00"))
    await choose_round_up(uow, program, member_id=member.id, cause_id=None, now=NOW)
    assert await round_up_cause(uow, program, member.id) is None
    stopped = await buy(uow, program, member, "R-3", line("BAG", "coffee", 1, "10.00"))
    assert "round_up" not in stopped.answer
    assert await balance(uow, member) == 50 + 10 + 15
    async with uow:
        assert await uow.causes.total("trees") == 12
    assert await check_invariants(database) == []


async def test_round_up_to_and_an_even_amount(uow, program):
    quarters = replace(program, donations=DonationRules(round_up_to=25))
    member = await new_member(uow, quarters, 1)
    await choose_round_up(uow, quarters, member_id=member.id, cause_id="meals", now=NOW)
    # 55.00 + 5 = 60: 50 kept, 10 donated; 45.00 + 5 = 50: nothing left over
    odd = await buy(uow, quarters, member, "R-1", line("BAG", "coffee", 1, "55.00"))
    even = await buy(uow, quarters, member, "R-2", line("BAG", "coffee", 1, "45.00"))
    assert odd.answer["round_up"] == {"cause": "meals", "kept": 50, "donated": 10}
    assert "round_up" not in even.answer
    assert await balance(uow, member) == 50 + 50 + 50


async def test_a_referral_milestone_with_a_reward_issues_its_voucher(uow, program, database):
    rules = replace(
        program.referrals,
        milestones=(Milestone(count=2, bonus=0, reward="coffee"), Milestone(count=3, bonus=300)),
    )
    referring = replace(program, referrals=rules)
    referrer = await new_member(uow, referring, 1)
    assert referrer.code is not None
    rewards = []
    for n in (2, 3, 4):
        friend = await new_member(uow, referring, n, referral_code=referrer.code)
        outcome = await buy(uow, referring, friend, f"R-{n}", latte(1))
        rewards.append(outcome.referral_reward)
    assert [len(r.milestone_vouchers) for r in rewards] == [0, 1, 0]
    assert [r.milestone_bonuses for r in rewards] == [(), (0,), (300,)]
    assert await vouchers(uow, referrer.id) == [("coffee", None)]
    notes = [
        n.context
        for n in await pending_notifications(uow)
        if n.member_id == referrer.id and n.template == "milestone_reached"
    ]
    code = rewards[1].milestone_vouchers[0].code
    assert [(c["count"], c["bonus"], c["reward"], c["code"]) for c in notes] == [
        (2, 0, "coffee", code),
        (3, 300, None, None),
    ]
    # 50 signup + 100 per friend + 300 at three
    assert await balance(uow, referrer) == 50 + 300 + 300
    assert await check_invariants(database) == []


async def test_metrics_count_the_cards_completed_among_the_vouchers_issued(uow, program, database):
    one_stamp = replace(program, stamps=(replace(CARD, count=1),))
    member = await new_member(uow, one_stamp, 1)
    await buy(uow, one_stamp, member, "R-1", latte(2))  # two full cards: two vouchers
    await adjust_points(
        uow, one_stamp, member_id=member.id, points=100, reason="gift", actor="test", now=NOW
    )
    await redeem_reward(uow, one_stamp, member_id=member.id, reward_id="coffee", now=NOW)
    figures = await program_metrics(
        SqlUnitOfWork(database, read_only=True), one_stamp, date(2026, 3, 1), date(2026, 3, 3)
    )
    assert figures.points.rewards["coffee"] == RewardFigures(
        issued=3, used=0, expired=0, from_stamps=2
    )


async def test_a_batch_of_receipts_stamps_in_order_and_fills_the_card_once(uow, stamped):
    member = await new_member(uow, stamped, 1)
    await choose_round_up(uow, stamped, member_id=member.id, cause_id="meals", now=NOW)
    assert member.code is not None
    ref = MemberRef("member_code", member.code)
    batch = [ReceiptIn(f"B-{n}", ref, [latte(n)]) for n in (4, 3, 2)]
    outcomes = await record_purchases(uow, stamped, batch, now=NOW)
    # 4, then 4 + 3 = 7: full (a voucher) and 1 over, then 1 + 2 = 3
    shown = [o.answer["stamps"][0] for o in outcomes]
    assert [(s["stamps"], len(s["vouchers"])) for s in shown] == [(4, 0), (1, 1), (3, 0)]
    # 23, 18 and 14 points: 20 + 10 + 10 kept, 3 + 8 + 4 given; the balances in order
    assert [o.answer["round_up"]["donated"] for o in outcomes] == [3, 8, 4]
    assert [o.answer["balance"] for o in outcomes] == [70, 80, 90]
    assert await vouchers(uow, member.id) == [("coffee", "stamp:coffee-card:1")]
    async with uow:
        assert await uow.causes.total("meals") == 15
    again = await record_purchases(uow, stamped, batch, now=NOW)  # a retry stamps nothing
    assert [o.replayed for o in again] == [True, True, True]
    assert await member_cards(uow, stamped, member.id) == [(CARD, 3)]
