"""Promotions on the one purchase path, on both databases, with hand-computed numbers.

The bundled program: 1 point per USD, shoes x2, 5 points a visit, floor rounding, tier
Member x1, time zone America/New_York (EST, UTC-5, until 8 March 2026 02:00, then EDT,
UTC-4). A coffee line 2 x 10.00 is 20 spend points; a shoes line 1 x 50.00 is 100.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from domain.ledger import EntryKind
from domain.program import Program, Promotion
from domain.services.leaderboard import leaderboard
from domain.services.metrics import program_metrics
from domain.services.points import history
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase, refund_purchase
from storage.checks import check_invariants
from tests.integration.helpers import balance, line, new_member

COFFEE = line("LATTE", "coffee", 2, "10.00")  # 20 spend points
SHOES = line("RUNNER", "shoes", 1, "50.00")  # 50 x 2 = 100 spend points
LATER = datetime(2026, 3, 20, 12, tzinfo=UTC)  # when the receipts are recorded

HAPPY_HOUR = Promotion(  # Fridays 16:00-18:00: coffee x2 and 10 points a receipt
    id="happy-hour",
    title="Happy hour",
    starts=datetime(2026, 3, 1),
    ends=datetime(2026, 4, 1),
    weekdays=(4,),
    hours=(time(16), time(18)),
    categories=("coffee",),
    multiplier=Decimal(2),
    bonus=10,
)
TRIPLE = Promotion(  # Fridays 17:00-19:00: everything x3 and 5 points a receipt
    id="triple",
    title="Triple",
    starts=datetime(2026, 3, 1),
    ends=datetime(2026, 4, 1),
    weekdays=(4,),
    hours=(time(17), time(19)),
    multiplier=Decimal(3),
    bonus=5,
)
NIGHT = Promotion(  # Saturday nights 22:00-03:00, across the DST change of 8 March
    id="night",
    title="Night owls",
    starts=datetime(2026, 3, 1),
    ends=datetime(2026, 4, 1),
    weekdays=(5,),
    hours=(time(22), time(3)),
    bonus=40,
)


def with_promotions(program: Program, *promotions: Promotion) -> Program:
    return replace(program, promotions=promotions)


async def bought(uow, program, member, receipt_id, occurred_at, *lines, now=LATER):
    assert member.code is not None
    outcome = await record_purchase(
        uow,
        program,
        ReceiptIn(receipt_id, MemberRef("member_code", member.code), list(lines), occurred_at),
        now=now,
    )
    return outcome.answer


def promotions_of(answer) -> list[tuple[str, str]]:
    return [(g["detail"], g["points"]) for g in answer["breakdown"] if g["reason"] == "promotion"]


async def ledger_kinds(uow, member) -> list[tuple[str, int, str | None]]:
    page = await history(uow, member.id, 1, 50)
    return [(r.kind, r.points, r.reason) for r in reversed(page.records)]


async def test_the_highest_multiplier_wins_and_bonuses_add(uow, program, database):
    program = with_promotions(program, HAPPY_HOUR, TRIPLE)
    member = await new_member(uow, program, 1)  # 50 signup points
    friday_1730 = datetime(2026, 3, 6, 22, 30, tzinfo=UTC)  # 17:30 EST: both run
    answer = await bought(uow, program, member, "R-1", friday_1730, COFFEE, SHOES)
    # base 20 + 100 + 5 visit = 125; coffee: x3 beats x2, so triple adds 20 x 2 = 40 on
    # it and 100 x 2 = 200 on the shoes, plus its 5; happy hour boosts nothing but its
    # bonus 10 still adds: 125 + 245 + 10 = 380
    assert promotions_of(answer) == [("happy-hour", "10.00"), ("triple", "245.00")]
    assert answer["points_awarded"] == 380
    assert answer["balance"] == 430
    assert await ledger_kinds(uow, member) == [
        ("signup", 50, None),
        ("purchase", 125, None),
        ("promotion", 10, "happy-hour"),
        ("promotion", 245, "triple"),
    ]
    assert await check_invariants(database) == []


async def test_occurred_at_decides_not_when_the_receipt_is_recorded(uow, program, database):
    program = with_promotions(program, HAPPY_HOUR)
    member = await new_member(uow, program, 1)
    friday_1630 = datetime(2026, 3, 6, 21, 30, tzinfo=UTC)  # 16:30 EST, inside
    friday_1500 = datetime(2026, 3, 6, 20, tzinfo=UTC)  # 15:00 EST, before the hour
    # sent two weeks late, on a Friday outside the hours: still promoted (20 + 5 + 30)
    late = await bought(uow, program, member, "LATE", friday_1630, COFFEE)
    assert (promotions_of(late), late["points_awarded"]) == ([("happy-hour", "30.00")], 55)
    # sent during the happy hour, but bought before it: not promoted (20 + 5)
    early = await bought(uow, program, member, "EARLY", friday_1500, COFFEE, now=friday_1630)
    assert (promotions_of(early), early["points_awarded"]) == ([], 25)
    assert await balance(uow, member) == 50 + 55 + 25
    assert await check_invariants(database) == []


@pytest.mark.parametrize(
    ("occurred_at", "promoted"),
    [
        (datetime(2026, 3, 7, 3, 30, tzinfo=UTC), False),  # Friday 22:30 EST: not Saturday
        (datetime(2026, 3, 8, 3, 30, tzinfo=UTC), True),  # Saturday 22:30 EST
        (datetime(2026, 3, 8, 6, 45, tzinfo=UTC), True),  # Sunday 01:45 EST: Saturday's night
        # 07:00 UTC is 03:00 EDT: the clocks jumped from 02:00 to 03:00, the night is over
        # (reading the night at a fixed UTC-5 would make it 02:00 and promote it)
        (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), False),
        (datetime(2026, 3, 8, 7, 30, tzinfo=UTC), False),  # 03:30 EDT
        (datetime(2026, 3, 15, 2, 30, tzinfo=UTC), True),  # Saturday 22:30 EDT, a week on
        (datetime(2026, 3, 15, 6, 59, tzinfo=UTC), True),  # Sunday 02:59 EDT
        (datetime(2026, 3, 15, 7, 0, tzinfo=UTC), False),  # Sunday 03:00 EDT
    ],
)
async def test_a_night_window_across_midnight_and_the_dst_change(
    uow, program, database, occurred_at, promoted
):
    program = with_promotions(program, NIGHT)
    member = await new_member(uow, program, 1)
    answer = await bought(uow, program, member, "R-NIGHT", occurred_at, COFFEE)
    assert promotions_of(answer) == ([("night", "40.00")] if promoted else [])
    assert answer["points_awarded"] == (65 if promoted else 25)  # 20 + 5 (+ 40)
    assert await check_invariants(database) == []


async def test_a_refund_takes_back_promotion_points_in_proportion(uow, program, database):
    program = with_promotions(program, HAPPY_HOUR)
    member = await new_member(uow, program, 1)
    friday_1630 = datetime(2026, 3, 6, 21, 30, tzinfo=UTC)
    answer = await bought(uow, program, member, "R-1", friday_1630, COFFEE)
    assert answer["points_awarded"] == 55  # 20 + 5 + 20 extra + 10 bonus
    half = await refund_purchase(
        uow, program, merchant="main", receipt_id="R-1", amount=Decimal("10.00"), now=LATER
    )
    assert (half.refund.points_clawed, half.balance) == (27, 78)  # floor(55 x 10 / 20)
    board = await leaderboard(uow, program, member.id, LATER)
    assert board.own is not None
    assert board.own.value == 28  # purchase 25 + promotion 30 - refund 27
    rest = await refund_purchase(
        uow, program, merchant="main", receipt_id="R-1", amount=Decimal("10.00"), now=LATER
    )
    assert (rest.refund.points_clawed, rest.balance) == (28, 50)  # 55 - 27: all of it back
    board = await leaderboard(uow, program, member.id, LATER)
    assert board.own is None or board.own.value == 0
    assert await check_invariants(database) == []


async def test_promotion_points_are_their_own_kind_in_the_metrics(uow, program, database):
    program = with_promotions(program, HAPPY_HOUR)
    member = await new_member(uow, program, 1)
    friday_1630 = datetime(2026, 3, 6, 21, 30, tzinfo=UTC)
    await bought(uow, program, member, "R-1", friday_1630, COFFEE)
    figures = await program_metrics(
        uow, program, datetime(2026, 3, 1).date(), datetime(2026, 3, 31).date()
    )
    assert figures.points.issued["purchase"] == 25
    assert figures.points.issued[str(EntryKind.PROMOTION)] == 30
    assert figures.points.issued_total == 50 + 25 + 30
    assert await check_invariants(database) == []
