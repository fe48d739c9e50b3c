"""Actions that earn once: joining the merchant's Telegram channel, an honour link, sharing
a phone number, and the birthday bonus (once a year).

The birthday is paid on the member's birthday from 10:00 on their own clock, never inside
the quiet hours, once per year, and not to members who joined fewer than
`min_member_days` days before. A member sets the birthday once and may change it once a
year (`BIRTHDAY_CHANGE_DAYS`), so a new date cannot pay twice in a year either.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.nudges import in_quiet_hours
from domain.program import Action

BIRTHDAY_TIME = time(10)  # member-local
BIRTHDAY_CHANGE_DAYS = 365
CHANNEL_MEMBER_STATUSES = frozenset({"member", "administrator", "creator"})


def is_channel_member(status: str, is_member: bool = False) -> bool:
    """Whether getChatMember's answer counts as having joined the channel: a member, an
    administrator or the creator; a restricted user only while still in it (`is_member`)."""
    return status in CHANNEL_MEMBER_STATUSES or (status == "restricted" and is_member)


def birthday_in(birthday: date, year: int) -> date:
    """The day the birthday falls on in `year`: 29 February is 28 February in other years."""
    if birthday.month == 2 and birthday.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return birthday.replace(year=year)


def birthday_due(
    action: Action,
    *,
    birthday: date,
    joined_at: datetime,
    now: datetime,
    timezone: str,
    quiet_hours: tuple[time, time],
    last_paid_year: int | None,
) -> bool:
    """Whether the birthday action pays this member at `now`; `timezone` is the member's
    (or the program's), `last_paid_year` the member-local year it last paid, if ever."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    today = local.date()
    if birthday_in(birthday, today.year) != today or local.time() < BIRTHDAY_TIME:
        return False
    if last_paid_year == today.year or in_quiet_hours(now, timezone, quiet_hours):
        return False
    return (today - joined_at.astimezone(zone).date()).days >= action.min_member_days


def birthday_changeable(set_at: datetime | None, now: datetime) -> bool:
    """Whether a member may set their birthday now: never set, or set a year ago or more."""
    return set_at is None or now - set_at >= timedelta(days=BIRTHDAY_CHANGE_DAYS)
