"""The monthly leaderboard and the once-only actions (channel check, birthday), by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.actions import (
    birthday_changeable,
    birthday_due,
    birthday_in,
    is_channel_member,
)
from domain.leaderboard import Ranked, Score, masked_code, month_bounds, rank_of, ranking
from domain.program import Action

NY = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_ranking_breaks_ties_by_who_got_there_first() -> None:
    scores = [
        Score(1, 300, utc(2026, 12, 9)),
        Score(2, 500, utc(2026, 12, 20)),
        Score(3, 300, utc(2026, 12, 3)),
        Score(4, 0, utc(2026, 12, 1)),
        Score(5, 300, utc(2026, 12, 3)),
    ]
    assert ranking(scores) == [
        Ranked(1, 2, 500),
        Ranked(2, 3, 300),
        Ranked(3, 5, 300),
        Ranked(4, 1, 300),
    ]
    assert rank_of(ranking(scores), 1) == Ranked(4, 1, 300)
    assert rank_of(ranking(scores), 4) is None  # nothing earned: not ranked


def test_the_month_is_the_program_s() -> None:
    # 1 December 03:00 UTC is still 30 November in New York
    assert month_bounds(utc(2026, 12, 1, 3), "America/New_York") == (
        datetime(2026, 11, 1, tzinfo=NY),
        datetime(2026, 12, 1, tzinfo=NY),
    )
    start, end = month_bounds(utc(2026, 12, 15), "America/New_York")
    assert (start, end) == (datetime(2026, 12, 1, tzinfo=NY), datetime(2027, 1, 1, tzinfo=NY))
    assert (start.astimezone(UTC), end.astimezone(UTC)) == (utc(2026, 12, 1, 5), utc(2027, 1, 1, 5))


@pytest.mark.parametrize(
    ("code", "masked"),
    [
        ("K7M2Q9XR", "K7••-••XR"),
        ("k7m2-q9xr", "K7••-••XR"),
        ("ABC", "•••"),
    ],
)
def test_a_masked_member_code_hides_its_middle(code: str, masked: str) -> None:
    assert masked_code(code) == masked


@pytest.mark.parametrize(
    ("status", "is_member", "counts"),
    [
        ("creator", False, True),
        ("administrator", False, True),
        ("member", False, True),
        ("restricted", True, True),
        ("restricted", False, False),
        ("left", False, False),
        ("kicked", False, False),
    ],
)
def test_who_counts_as_in_the_channel(status: str, is_member: bool, counts: bool) -> None:
    assert is_channel_member(status, is_member) is counts


BIRTHDAY = Action(id="bday", title="Birthday", kind="birthday", points=100, min_member_days=30)
QUIET = (time(21), time(9))
JOINED = utc(2026, 1, 10, 12)


def due(
    now: datetime,
    birthday: date = date(1990, 6, 15),
    joined: datetime = JOINED,
    last_paid_year: int | None = None,
    quiet: tuple[time, time] = QUIET,
) -> bool:
    return birthday_due(
        BIRTHDAY,
        birthday=birthday,
        joined_at=joined,
        now=now,
        timezone="America/New_York",
        quiet_hours=quiet,
        last_paid_year=last_paid_year,
    )


def test_a_birthday_pays_from_ten_member_local_on_the_day() -> None:
    assert not due(utc(2026, 6, 15, 13, 59))  # 09:59 EDT
    assert due(utc(2026, 6, 15, 14, 0))  # 10:00 EDT
    assert due(utc(2026, 6, 16, 3, 59)) is False  # 23:59 EDT: quiet hours
    assert not due(utc(2026, 6, 16, 14))  # the day after
    assert not due(utc(2026, 6, 15, 14), last_paid_year=2026)  # once a year
    assert due(utc(2027, 6, 15, 14), last_paid_year=2026)


def test_quiet_hours_that_cover_ten_o_clock_delay_it() -> None:
    late_quiet = (time(21), time(11))
    assert not due(utc(2026, 6, 15, 14), quiet=late_quiet)  # 10:00 EDT, still quiet
    assert due(utc(2026, 6, 15, 15), quiet=late_quiet)  # 11:00


def test_new_members_wait_min_member_days() -> None:
    assert not due(utc(2026, 6, 15, 14), joined=utc(2026, 5, 20, 12))  # 26 days before
    assert due(utc(2026, 6, 15, 14), joined=utc(2026, 5, 16, 12))  # 30 days before


def test_the_29th_of_february_is_the_28th_in_other_years() -> None:
    leap = date(2000, 2, 29)
    assert birthday_in(leap, 2027) == date(2027, 2, 28)
    assert birthday_in(leap, 2028) == date(2028, 2, 29)
    assert due(utc(2027, 2, 28, 15), birthday=leap)  # 10:00 EST


def test_a_birthday_changes_once_a_year() -> None:
    assert birthday_changeable(None, utc(2026, 6, 1))
    assert not birthday_changeable(utc(2026, 1, 1), utc(2026, 12, 31))
    assert birthday_changeable(utc(2026, 1, 1), utc(2027, 1, 1))
