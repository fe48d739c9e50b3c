"""Challenge progress worked by hand on the program's clock (America/New_York, EST = UTC-5
in December 2026; 7 December 2026 is a Monday)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.challenges import (
    ChallengeReceipt,
    Progress,
    Window,
    challenge_progress,
    challenge_window,
    progress_news,
)
from domain.earning import PurchaseLine
from domain.program import Challenge

ZONE = "America/New_York"
NY = ZoneInfo(ZONE)
DECEMBER = Challenge(
    id="dec",
    title="December",
    kind="purchases",
    target=Decimal(3),
    starts=datetime(2026, 12, 1),
    ends=datetime(2027, 1, 1),
    bonus=100,
)
LATTE = PurchaseLine("LATTE", "coffee", 2, Decimal("3.50"))
SHOES = PurchaseLine("RUNNER", "shoes", 1, Decimal("60.00"))
BEANS = PurchaseLine("BEANS-1KG", "beans", 1, Decimal("18.00"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def receipt(at: datetime, *lines: PurchaseLine, refunded: str = "0") -> ChallengeReceipt:
    return ChallengeReceipt(at, lines or (LATTE,), Decimal(refunded))


def progress(
    challenge: Challenge,
    receipts: list[ChallengeReceipt],
    now: datetime,
    window: Window | None = None,
    referrals: tuple[datetime, ...] = (),
) -> Progress:
    window = window or challenge_window(challenge, ZONE)
    assert window is not None
    return challenge_progress(
        challenge, window, receipts, timezone=ZONE, now=now, referrals=referrals
    )


def test_a_fixed_window_is_its_dates_on_the_program_clock() -> None:
    window = challenge_window(DECEMBER, ZONE)
    assert window == Window(local(2026, 12, 1), local(2027, 1, 1))
    assert utc(2026, 12, 1, 4, 59) not in window  # 30 Nov 23:59 EST
    assert utc(2026, 12, 1, 5, 0) in window
    assert utc(2027, 1, 1, 4, 59) in window  # 31 Dec 23:59 EST
    assert utc(2027, 1, 1, 5, 0) not in window


def test_a_rolling_window_starts_when_the_member_joins_it() -> None:
    rolling = replace(DECEMBER, starts=None, ends=None, days=30)
    assert challenge_window(rolling, ZONE) is None
    joined = utc(2026, 12, 10, 15)
    assert challenge_window(rolling, ZONE, joined) == Window(joined, utc(2027, 1, 9, 15))


def test_purchases_count_inside_the_window_and_not_when_refunded() -> None:
    receipts = [
        receipt(utc(2026, 12, 1, 4, 30)),  # 30 Nov 23:30 EST: before
        receipt(utc(2026, 12, 1, 5, 30)),
        receipt(utc(2026, 12, 12, 18), refunded="7.00"),  # wholly refunded
        receipt(utc(2026, 12, 20, 18), refunded="3.00"),  # partly refunded: still a purchase
    ]
    now = utc(2026, 12, 21)
    counted = progress(DECEMBER, receipts, now)
    assert counted == Progress(Decimal(2), Decimal(3))
    assert (counted.done, counted.halfway, counted.percent) == (False, True, 66)
    assert progress(DECEMBER, [*receipts, receipt(utc(2027, 1, 1, 4, 59))], now).done


def test_spend_counts_the_listed_categories_less_refunds() -> None:
    shoes = replace(DECEMBER, kind="spend", target=Decimal(100), categories=("shoes",))
    receipts = [
        # 60.00 of shoes and 7.00 of coffee, half of the 67.00 refunded: 30.00 counts
        receipt(utc(2026, 12, 2, 18), SHOES, LATTE, refunded="33.50"),
        receipt(utc(2026, 12, 3, 18), replace(SHOES, unit_price=Decimal("50.00"))),
        receipt(utc(2026, 12, 4, 18), BEANS),  # not shoes
    ]
    spent = progress(shoes, receipts, utc(2026, 12, 5))
    assert spent == Progress(Decimal(80), Decimal(100))
    assert spent.percent == 80
    every = replace(shoes, categories=())
    # 33.50 (half of the first receipt) + 50.00 + 18.00
    assert progress(every, receipts, utc(2026, 12, 5)).current == Decimal("101.50")


def test_distinct_categories() -> None:
    explorer = replace(DECEMBER, kind="categories", target=Decimal(3))
    receipts = [receipt(utc(2026, 12, 2, 18), LATTE, BEANS), receipt(utc(2026, 12, 3, 18), LATTE)]
    assert progress(explorer, receipts, utc(2026, 12, 5)).current == Decimal(2)
    receipts.append(receipt(utc(2026, 12, 4, 18), SHOES))
    assert progress(explorer, receipts, utc(2026, 12, 5)).done
    listed = replace(explorer, categories=("coffee", "shoes", "tea"))
    assert progress(listed, receipts, utc(2026, 12, 5)).current == Decimal(2)  # beans left out


STREAK = Challenge(
    id="streak", title="Three weeks", kind="streak", target=Decimal(3), days=28, bonus=100
)
JOINED = local(2026, 12, 7, 9)  # Monday
WINDOW = Window(JOINED, JOINED + (local(2027, 1, 4, 9) - JOINED))


def test_a_streak_counts_consecutive_weeks_on_the_program_clock() -> None:
    receipts = [
        receipt(local(2026, 12, 8, 12)),  # week of 7 Dec
        receipt(local(2026, 12, 17, 12)),
    ]  # week of 14 Dec
    assert progress(STREAK, receipts, local(2026, 12, 21, 8), WINDOW).current == Decimal(2)
    # Sunday 20 Dec 23:30 EST is Monday 04:30 UTC: still the week of 14 Dec here
    late_sunday = receipt(utc(2026, 12, 21, 4, 30))
    assert progress(
        STREAK, [*receipts, late_sunday], local(2026, 12, 22), WINDOW
    ).current == Decimal(2)
    done = progress(
        STREAK, [*receipts, receipt(local(2026, 12, 23, 12))], local(2026, 12, 23), WINDOW
    )
    assert (done.current, done.done) == (Decimal(3), True)


def test_a_missed_week_breaks_the_streak() -> None:
    receipts = [receipt(local(2026, 12, 8, 12)), receipt(local(2026, 12, 15, 12))]
    # nothing in the week of 21 Dec: on 28 Dec the run of two is dead
    assert progress(STREAK, receipts, local(2026, 12, 28, 12), WINDOW).current == Decimal(0)
    again = [*receipts, receipt(local(2026, 12, 29, 12))]
    assert progress(STREAK, again, local(2026, 12, 29, 13), WINDOW).current == Decimal(1)
    # after the window a streak can no longer grow; the window's last week is what counts
    assert progress(STREAK, again, local(2027, 2, 1), WINDOW).current == Decimal(1)
    long = replace(STREAK, days=56)
    long_window = Window(JOINED, local(2027, 2, 1, 9))
    more = [*again, receipt(local(2027, 1, 5, 12)), receipt(local(2027, 1, 12, 12))]
    assert progress(long, more, local(2027, 1, 12, 13), long_window).done


def test_referrals_count_friends_qualified_in_the_window() -> None:
    friends = replace(DECEMBER, kind="referrals", target=Decimal(2))
    qualified = (utc(2026, 11, 30, 12), utc(2026, 12, 3, 12), utc(2026, 12, 30, 12))
    assert progress(friends, [], utc(2026, 12, 31), referrals=qualified).done
    assert progress(friends, [], utc(2026, 12, 31), referrals=qualified[:2]).current == 1


@pytest.mark.parametrize(
    ("before", "after", "news"),
    [
        (1, 2, "halfway"),  # of 4
        (0, 3, "halfway"),
        (2, 3, None),
        (3, 4, "completed"),
        (1, 5, "completed"),
        (4, 5, None),
        (3, 1, None),
    ],
)
def test_news_at_halfway_and_on_completion(before: int, after: int, news: str | None) -> None:
    goal = Decimal(4)
    assert progress_news(Progress(Decimal(before), goal), Progress(Decimal(after), goal)) == news


def test_ending_soon_for_the_challenge_ending_nudge() -> None:
    window = Window(local(2026, 12, 1), local(2027, 1, 1))
    assert window.ends_within(local(2026, 12, 29), 3)
    assert not window.ends_within(local(2026, 12, 28, 23), 3)
    assert not window.ends_within(local(2027, 1, 1), 3)  # over
