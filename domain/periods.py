"""Report periods: dates [since, until) in the program's time zone, and their defaults."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_DAYS = 30  # a period nobody named: the 30 days before today
# The dates a period may name: nothing is older than 2000 (domain.validation.EARLIEST), and
# the far end leaves room for time zones and the active window without overflowing.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(9998, 12, 31)


class BadPeriod(ValueError):
    """A date that is not YYYY-MM-DD within FIRST_DAY..LAST_DAY, or a period that does not
    move forward; the message names the option or parameter."""


def named_period(
    since: str | None,
    until: str | None,
    today: date,
    days: int = DEFAULT_DAYS,
    names: tuple[str, str] = ("since", "until"),
) -> tuple[date, date]:
    """[since, until) from the texts given: `until` defaults to `today`, `since` to `days`
    days before `until`; BadPeriod naming the option (`names`) otherwise."""
    end = _named_day(until, names[1]) if until is not None else today
    start = _named_day(since, names[0]) if since is not None else last_days(end, days)[0]
    if start >= end:
        raise BadPeriod(f"{names[0]}: {start} must be before {names[1]} ({end})")
    return start, end


def _named_day(text: str, name: str) -> date:
    day = readable_day(text)
    if day is None:
        raise BadPeriod(
            f"{name}: expected a date as YYYY-MM-DD from {FIRST_DAY} to "
            f"{LAST_DAY}, got {text[:40]!r}"
        )
    return day


def readable_day(text: str) -> date | None:
    """A YYYY-MM-DD date from FIRST_DAY to LAST_DAY, or None."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def local_today(now: datetime, zone: str) -> date:
    """The date it is at `now` in time zone `zone`."""
    return now.astimezone(ZoneInfo(zone)).date()


def last_days(until: date, days: int = DEFAULT_DAYS) -> tuple[date, date]:
    """The `days` days before `until`: [until - days, until)."""
    return until - timedelta(days=days), until


def previous(since: date, until: date) -> tuple[date, date]:
    """The period of the same length just before [since, until)."""
    return since - (until - since), since
