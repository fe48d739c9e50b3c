"""The program simulator's replay, on receipts whose points are worked out by hand.

The bundled program: 1 point per unit, 5 per visit, floor; 1 tier credit per unit;
Member from 0 (x1), Insider from 500 (x1.25), Prime from 2500 (x1.5) over 365 days,
30 days' grace; points expire 12 months after the purchase.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.earning import PurchaseLine
from domain.program import Program, Promotion, Tier
from domain.simulation import (
    LedgerFacts,
    ReplayReceipt,
    Simulation,
    Tally,
    compare,
    member_ranges,
)

SINCE = datetime(2026, 1, 1, tzinfo=UTC)
UNTIL = datetime(2026, 2, 1, tzinfo=UTC)
FACTS = LedgerFacts(outstanding=10_000, issued=2_000, redeemed=500)


def receipt(
    member: int, day: int, amount: str, refunded: str = "0", awarded: int = 0, late_days: int = 0
) -> ReplayReceipt:
    """One 'other' line of `amount` on day `day` after SINCE (negative: before)."""
    at = SINCE + timedelta(days=day)
    return ReplayReceipt(
        member,
        at,
        at + timedelta(days=late_days),
        (PurchaseLine("X", "other", 1, Decimal(amount)),),
        Decimal(refunded),
        awarded,
    )


def with_insider_at(program: Program, threshold: int) -> Program:
    """`program` with Insider reached at `threshold` credits."""
    member, insider, prime = program.tiers.levels
    return replace(
        program,
        tiers=replace(
            program.tiers, levels=(member, Tier(insider.name, threshold, insider.multiplier), prime)
        ),
    )


def valued(program: Program, value: str) -> Program:
    """`program` with a point value."""
    return replace(program, metrics=replace(program.metrics, point_value=Decimal(value)))


def run(
    current: Program,
    new: Program,
    receipts: list[ReplayReceipt],
    members: int = 10,
    facts: LedgerFacts = FACTS,
):
    simulation = Simulation(current, new, SINCE, UNTIL)
    simulation.feed(receipts)
    return simulation.compare(facts, members)


def test_a_lower_threshold_raises_points_and_moves_a_member_up(program):
    new = with_insider_at(program, 300)
    receipts = [
        # A: 400 -> 405 points, 400 credits (new: Insider); 100 at Member -> 105
        # (new: (100 + 5) x 1.25 = 131), then Insider in both; 10 -> (10 + 5) x 1.25 = 18
        receipt(1, 1, "400.00", awarded=405),
        receipt(1, 2, "100.00", awarded=105),
        receipt(1, 3, "10.00", awarded=18),
        receipt(2, 1, "600.00", awarded=605),  # B: 605, Insider in both
        receipt(3, 1, "350.00", awarded=355),  # C: 355, Member now, Insider under new
    ]
    comparison = run(valued(program, "0.01"), valued(new, "0.01"), receipts)
    current, simulated = comparison.current, comparison.new
    assert (comparison.receipts, comparison.revenue) == (5, Decimal("1460.00"))
    assert (current.points_issued, simulated.points_issued) == (1488, 1514)
    assert (current.tier_credits, simulated.tier_credits) == (1460, 1460)
    assert current.members_by_tier == {"Member": 1 + 7, "Insider": 2, "Prime": 0}
    assert simulated.members_by_tier == {"Member": 7, "Insider": 3, "Prime": 0}
    assert (comparison.moved_up, comparison.moved_down) == (1, 0)
    assert (current.outstanding, simulated.outstanding) == (10_000, 10_026)
    assert (current.liability, simulated.liability) == (Decimal("100.00"), Decimal("100.26"))
    assert comparison.redemption_rate == Decimal("0.25")
    assert current.redemption_cost(comparison.redemption_rate) == Decimal("3.72")
    assert simulated.redemption_cost(comparison.redemption_rate) == Decimal("3.785")
    assert current.reward_rate(comparison.revenue) == pytest.approx(
        Decimal("14.88") / Decimal("1460") * 100
    )


def test_the_same_program_against_itself_changes_nothing(program):
    receipts = [receipt(1, 1, "400.00"), receipt(1, 2, "100.00"), receipt(2, 5, "30.00")]
    comparison = run(program, program, receipts)
    assert comparison.current == comparison.new
    assert (comparison.moved_up, comparison.moved_down) == (0, 0)


def test_receipts_before_the_period_only_warm_the_tier_up(program):
    receipts = [
        receipt(1, -10, "500.00", awarded=505),
        receipt(1, 1, "10.00", awarded=18),
        receipt(1, 40, "10.00"),
    ]  # day 40 is after UNTIL: not counted
    comparison = run(program, program, receipts, members=1)
    assert comparison.receipts == 1
    assert (comparison.current.points_issued, comparison.current.tier_credits) == (18, 10)
    assert comparison.current.members_by_tier == {"Member": 0, "Insider": 1, "Prime": 0}
    assert comparison.current.outstanding == 10_000


def test_credits_leave_the_window_and_the_tier_falls_after_its_grace(program):
    short = replace(program, tiers=replace(program.tiers, window_days=20, grace_days=5))
    # Insider on day -15; the credits leave the window on day 5, the grace ends on day 10:
    # on day 7 still Insider ((10 + 5) x 1.25 = 18), on day 12 Member again (15).
    receipts = [receipt(1, -15, "500.00"), receipt(1, 7, "10.00"), receipt(1, 12, "10.00")]
    comparison = run(short, short, receipts, members=1)
    assert comparison.current.points_issued == 18 + 15
    assert comparison.current.members_by_tier == {"Member": 1, "Insider": 0, "Prime": 0}
    assert run(program, short, receipts, members=1).moved_down == 1


def test_a_refund_takes_back_its_share_and_a_late_receipt_earns_no_points(program):
    receipts = [
        receipt(1, 1, "100.00", refunded="50.00"),  # 105 - floor(105 x 50/100) = 53; 50 credits
        receipt(2, 1, "100.00", late_days=400),  # recorded after its points expired: 0; 100
    ]
    comparison = run(program, program, receipts)
    assert (comparison.current.points_issued, comparison.current.tier_credits) == (53, 150)
    assert comparison.revenue == Decimal("150.00")


def test_without_a_point_value_money_figures_are_unknown(program):
    unvalued = valued(program, "0")
    comparison = run(
        unvalued,
        unvalued,
        [receipt(1, 1, "10.00")],
        facts=LedgerFacts(outstanding=0, issued=0, redeemed=0),
    )
    assert comparison.redemption_rate is None
    assert comparison.current.liability is None
    assert comparison.current.reward_rate(comparison.revenue) is None
    assert comparison.current.redemption_cost(Decimal("0.5")) is None


def test_member_ranges_cover_the_span_end_to_end():
    assert member_ranges((1, 11), 3) == [(1, 4), (4, 7), (7, 11)]
    assert member_ranges((5, 7), 4) == [(5, 6), (6, 7)]  # never an empty range
    assert member_ranges((5, 6), 1) == [(5, 6)]


def test_tallies_of_members_replayed_apart_add_up_to_one_replay(program):
    new = with_insider_at(program, 300)
    receipts = [
        receipt(1, -10, "450.00"),
        receipt(1, 1, "100.00", awarded=105),
        receipt(2, 1, "600.00", awarded=605),
        receipt(3, 2, "350.00", refunded="50"),
        receipt(4, 3, "20.00", late_days=400),
    ]
    whole = Simulation(program, new, SINCE, UNTIL)
    whole.feed(receipts)
    parts = []
    for members in ({1, 2}, {3}, {4}):
        part = Simulation(program, new, SINCE, UNTIL)
        part.feed(r for r in receipts if r.member_id in members)
        parts.append(part.tally())
    total = sum(parts, Tally())
    assert total == whole.tally()
    assert compare(program, new, SINCE, UNTIL, total, FACTS, 10) == run(program, new, receipts)


def test_a_new_promotion_counts_on_the_receipts_it_would_have_covered(program):
    weekends = Promotion(  # Saturdays and Sundays in January, New York time: x2 and 5 more
        id="weekends",
        title="Weekends",
        starts=datetime(2026, 1, 1),
        ends=datetime(2026, 2, 1),
        weekdays=(5, 6),
        multiplier=Decimal(2),
        bonus=5,
    )
    receipts = [
        receipt(1, 2, "40.00"),  # Saturday 3 January 00:00 UTC: still Friday 19:00 in NY
        receipt(1, 3, "40.00"),  # Sunday 4 January 00:00 UTC: Saturday 19:00 in NY
        receipt(2, 10, "10.00", refunded="5.00"),  # Saturday 10th 19:00 in NY, half refunded
    ]
    comparison = run(program, replace(program, promotions=(weekends,)), receipts)
    # current: 45 + 45 + (15 - 7) = 98; new: 45 + (45 + 40 + 5) + (15 + 10 + 5 = 30, - 15)
    assert (comparison.current.points_issued, comparison.new.points_issued) == (98, 150)
