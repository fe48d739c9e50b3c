"""Promotions on a receipt, worked by hand on the program's clock (America/New_York:
EST is UTC-5; in 2026 EDT, UTC-4, runs from 8 March 02:00 to 1 November 02:00)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from domain.earning import PurchaseLine
from domain.program import Promotion
from domain.promotions import apply_promotions, first_overlap, is_running, next_window

ZONE = "America/New_York"
COFFEE = PurchaseLine("LATTE", "coffee", 2, Decimal("3.50"))  # 7.00 -> 7 spend points
SHOES = PurchaseLine("RUNNER", "shoes", 1, Decimal("50.00"))  # 50.00 x 2 (category) -> 100
LINES = (COFFEE, SHOES)
POINTS = (Decimal(7), Decimal(100))
HAPPY = Promotion(
    id="happy",
    title="Happy hour",
    starts=datetime(2026, 12, 1),
    ends=datetime(2027, 1, 1),
    weekdays=(4, 5),
    hours=(time(16), time(18)),
    categories=("coffee",),
    multiplier=Decimal(2),
    bonus=10,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def points(
    promotions: tuple[Promotion, ...],
    at: datetime,
    tier: str = "Member",
    lines: tuple[PurchaseLine, ...] = LINES,
    line_points: tuple[Decimal, ...] = POINTS,
) -> dict[str, Decimal]:
    """Each applied promotion's points by id."""
    applied = apply_promotions(
        promotions, lines, line_points, occurred_at=at, timezone=ZONE, tier=tier
    )
    return {a.promotion.id: a.points for a in applied}


def test_a_happy_hour_doubles_the_coffee_and_adds_its_bonus() -> None:
    friday_1630 = utc(2026, 12, 4, 21, 30)  # 16:30 EST
    [applied] = apply_promotions(
        (HAPPY,), LINES, POINTS, occurred_at=friday_1630, timezone=ZONE, tier="Member"
    )
    assert (applied.lines, applied.extra, applied.bonus, applied.points) == (
        (0,),
        Decimal(7),
        10,
        Decimal(17),
    )  # 7 x (2 - 1) + 10
    assert points((HAPPY,), utc(2026, 12, 4, 23, 0)) == {}  # 18:00: the hour is over
    assert points((HAPPY,), utc(2026, 12, 3, 21, 30)) == {}  # a Thursday
    assert (
        points((HAPPY,), utc(2026, 12, 4, 21, 30), lines=(SHOES,), line_points=(Decimal(100),))
        == {}
    )  # no coffee on the receipt


def test_the_highest_multiplier_wins_on_each_line_and_bonuses_add() -> None:
    at = utc(2026, 12, 4, 21, 30)
    everything = replace(HAPPY, id="all", categories=(), bonus=0)  # x2 on both lines
    shoes = replace(HAPPY, id="shoes", categories=("shoes",), multiplier=Decimal(3), bonus=0)
    visit = replace(HAPPY, id="visit", categories=(), multiplier=None, bonus=5)
    # coffee: x2 from "all" = +7; shoes: x3 from "shoes" = +200; "visit": +5
    assert points((everything, shoes, visit), at) == {
        "all": Decimal(7),
        "shoes": Decimal(200),
        "visit": Decimal(5),
    }
    weaker = replace(shoes, multiplier=Decimal("1.5"))  # beaten on its only line, no bonus
    assert points((everything, weaker), at) == {"all": Decimal(107)}
    # equal multipliers: the first in the program file takes the line
    assert points((everything, replace(shoes, multiplier=Decimal(2))), at) == {"all": Decimal(107)}


def test_a_night_window_belongs_to_the_weekday_it_started_on() -> None:
    night = replace(HAPPY, weekdays=(4,), hours=(time(22), time(2)), categories=())
    assert points((night,), utc(2026, 12, 5, 6, 30)) == {"happy": Decimal(117)}  # Sat 01:30
    assert points((night,), utc(2026, 12, 5, 3, 30)) == {"happy": Decimal(117)}  # Fri 22:30
    assert points((night,), utc(2026, 12, 4, 6, 30)) == {}  # Fri 01:30 is Thursday's night
    assert points((night,), utc(2026, 12, 6, 3, 30)) == {}  # Sat 22:30
    assert points((night,), utc(2026, 12, 5, 7, 0)) == {}  # Sat 02:00: over


def test_the_wall_clock_decides_across_daylight_saving_changes() -> None:
    early = replace(HAPPY, starts=datetime(2026, 1, 1), weekdays=(), hours=(time(1), time(3)))
    # 1 November 2026: 01:00-02:00 happens twice (EDT, then EST)
    assert is_running(early, datetime(2026, 11, 1, 1, 30))
    assert points((early,), utc(2026, 11, 1, 5, 30)) == {"happy": Decimal(17)}  # 01:30 EDT
    assert points((early,), utc(2026, 11, 1, 6, 30)) == {"happy": Decimal(17)}  # 01:30 EST
    assert points((early,), utc(2026, 11, 1, 7, 30)) == {"happy": Decimal(17)}  # 02:30 EST
    assert points((early,), utc(2026, 11, 1, 8, 0)) == {}  # 03:00 EST
    # 8 March 2026: 02:00-03:00 never happens
    assert points((early,), utc(2026, 3, 8, 6, 59)) == {"happy": Decimal(17)}  # 01:59 EST
    assert points((early,), utc(2026, 3, 8, 7, 0)) == {}  # 03:00 EDT
    spring = replace(HAPPY, starts=datetime(2026, 3, 8, 3), weekdays=(), hours=None)
    assert points((spring,), utc(2026, 3, 8, 7, 0)) == {"happy": Decimal(17)}  # 03:00 EDT
    assert points((spring,), utc(2026, 3, 8, 6, 59)) == {}  # 01:59 EST, before it starts


def test_an_end_date_includes_its_whole_day() -> None:
    every_day = replace(HAPPY, weekdays=(), hours=None)  # ends 2027-01-01 00:00 = "2026-12-31"
    assert points((every_day,), utc(2027, 1, 1, 4, 59)) == {"happy": Decimal(17)}  # 23:59
    assert points((every_day,), utc(2027, 1, 1, 5, 0)) == {}  # midnight
    assert points((every_day,), utc(2026, 12, 1, 5, 0)) == {"happy": Decimal(17)}  # 00:00
    assert points((every_day,), utc(2026, 12, 1, 4, 59)) == {}  # 30 Nov 23:59


def test_tiers_skus_and_min_spend() -> None:
    at = utc(2026, 12, 5, 21, 0)  # Saturday 16:00
    prime = replace(HAPPY, tiers=("Prime",))
    assert points((prime,), at, tier="Member") == {}
    assert points((prime,), at, tier="Prime") == {"happy": Decimal(17)}
    beans = replace(HAPPY, categories=(), skus=("BEANS-1KG",), multiplier=Decimal(3), bonus=0)
    bag = PurchaseLine("BEANS-1KG", "coffee", 1, Decimal("18.00"))
    assert points((beans,), at, lines=(COFFEE, bag), line_points=(Decimal(7), Decimal(18))) == {
        "happy": Decimal(36)
    }  # 18 x (3 - 1), the latte untouched
    big_spender = replace(HAPPY, min_spend=Decimal(20))  # on the coffee lines only
    assert points((big_spender,), at) == {}  # 7.00 of coffee
    three = PurchaseLine("LATTE", "coffee", 3, Decimal("7.00"))  # 21.00
    assert points(
        (big_spender,), at, lines=(three, SHOES), line_points=(Decimal(21), Decimal(100))
    ) == {"happy": Decimal(31)}


def test_one_spend_figure_per_line_is_required() -> None:
    with pytest.raises(ValueError, match="one spend-points figure per line"):
        apply_promotions(
            (HAPPY,),
            LINES,
            (Decimal(7),),
            occurred_at=utc(2026, 12, 4, 21),
            timezone=ZONE,
            tier="Member",
        )


def test_next_window_is_the_running_one_or_the_next() -> None:
    night = replace(HAPPY, weekdays=(4,), hours=(time(22), time(2)))
    wednesday = datetime(2026, 12, 2, 12)
    assert next_window(night, wednesday) == (datetime(2026, 12, 4, 22), datetime(2026, 12, 5, 2))
    saturday_1am = datetime(2026, 12, 5, 1)
    assert next_window(night, saturday_1am) == (datetime(2026, 12, 4, 22), datetime(2026, 12, 5, 2))
    weekend = replace(HAPPY, weekdays=(4, 5, 6), hours=None)
    assert next_window(weekend, datetime(2026, 12, 6, 12)) == (
        datetime(2026, 12, 4),
        datetime(2026, 12, 7),
    )
    assert next_window(weekend, datetime(2026, 12, 30)) is None  # Friday 1 Jan is past its end
    assert next_window(HAPPY, datetime(2027, 1, 1)) is None
    assert next_window(HAPPY, datetime(2026, 11, 20)) == (
        datetime(2026, 12, 4, 16),
        datetime(2026, 12, 4, 18),
    )
    always = replace(HAPPY, weekdays=(), hours=None)
    assert next_window(always, datetime(2026, 12, 9)) == (
        datetime(2026, 12, 1),
        datetime(2027, 1, 1),
    )


def test_overlaps_are_found_at_their_first_moment() -> None:
    saturday = replace(
        HAPPY,
        id="sat",
        starts=datetime(2026, 12, 5),
        ends=datetime(2026, 12, 6),
        weekdays=(),
        hours=None,
    )
    assert first_overlap(HAPPY, saturday) == datetime(2026, 12, 5, 16)
    assert first_overlap(saturday, HAPPY) == datetime(2026, 12, 5, 16)
    friday_only = replace(HAPPY, weekdays=(4,))
    assert first_overlap(friday_only, saturday) is None
    night = replace(HAPPY, weekdays=(4,), hours=(time(22), time(2)))
    morning = replace(saturday, hours=(time(0), time(8)))
    assert first_overlap(night, morning) == datetime(2026, 12, 5)
    assert (
        first_overlap(replace(HAPPY, tiers=("Prime",)), replace(saturday, tiers=("Member",)))
        is None
    )
    later = replace(saturday, starts=datetime(2027, 2, 1), ends=datetime(2027, 3, 1))
    assert first_overlap(HAPPY, later) is None
