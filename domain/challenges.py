"""Challenges and streaks: a goal reached inside a window, rewarded once per member and window.

Progress is counted from the member's receipts whose `occurred_at` is inside the window
(the caller passes them with what was refunded of each, so a refund undoes progress until
the challenge is completed) and, for `referrals`, from when each friend qualified:

    purchases   receipts not wholly refunded
    spend       money spent on the lines that count (its `categories`, or all), less the
                refunded share of each receipt
    categories  distinct categories bought (among its `categories`, when it lists some)
    streak      consecutive calendar weeks (Monday to Sunday, program time zone) with a
                purchase: the longest run once it reaches the goal, else the run still alive
                (ending this week or last week), else 0
    referrals   friends who qualified
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from domain.earning import PurchaseLine
from domain.program import Challenge

_ZERO = Decimal(0)
News = Literal["halfway", "completed"]


@dataclass(frozen=True)
class Window:
    """When a challenge counts for a member: `[starts, ends)`, aware."""

    starts: datetime
    ends: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.starts <= moment < self.ends

    def last_day(self, timezone: str) -> str:
        """The window's last day on `timezone`'s clock (ISO), as messages name it."""
        return (
            (self.ends - timedelta(microseconds=1))
            .astimezone(ZoneInfo(timezone))
            .date()
            .isoformat()
        )

    def ends_within(self, now: datetime, days: int) -> bool:
        """Whether it is still open at `now` and ends within `days` days (challenge_ending)."""
        return now < self.ends <= now + timedelta(days=days)


@dataclass(frozen=True)
class ChallengeReceipt:
    """A member's receipt as challenges read it: the lines that count (e.g. the earning
    lines) and the money refunded from it so far."""

    occurred_at: datetime
    lines: tuple[PurchaseLine, ...]
    refunded: Decimal = _ZERO

    @property
    def total(self) -> Decimal:
        """What the receipt cost before refunds."""
        return sum((line.amount for line in self.lines), _ZERO)

    @property
    def kept(self) -> bool:
        """Whether some of it is left after refunds."""
        return bool(self.lines) and self.refunded < self.total


@dataclass(frozen=True)
class Progress:
    """How far a member is: `current` of `target` (receipts, money, categories, weeks or
    friends)."""

    current: Decimal
    target: Decimal

    @property
    def done(self) -> bool:
        """The goal is reached."""
        return self.current >= self.target

    @property
    def halfway(self) -> bool:
        """At least half of the goal is reached."""
        return self.current * 2 >= self.target

    @property
    def percent(self) -> int:
        """Whole percent done, 0 to 100, for a progress bar."""
        share = (self.current * 100 / self.target).to_integral_value(ROUND_FLOOR)
        return int(min(Decimal(100), max(_ZERO, share)))


def challenge_window(
    challenge: Challenge, timezone: str, joined_at: datetime | None = None
) -> Window | None:
    """The window of a fixed challenge (its dates on the program's clock), or of a rolling
    one for a member who joined it at `joined_at` (None: not joined, no window)."""
    if challenge.days is not None:
        if joined_at is None:
            return None
        return Window(joined_at, joined_at + timedelta(days=challenge.days))
    if challenge.starts is None or challenge.ends is None:
        raise ValueError(f"challenge {challenge.id!r} has neither days nor starts and ends")
    zone = ZoneInfo(timezone)
    return Window(challenge.starts.replace(tzinfo=zone), challenge.ends.replace(tzinfo=zone))


def challenge_progress(
    challenge: Challenge,
    window: Window,
    receipts: Sequence[ChallengeReceipt],
    *,
    timezone: str,
    now: datetime,
    referrals: Sequence[datetime] = (),
) -> Progress:
    """The member's progress at `now` from their receipts (and, for `referrals`, when each of
    their friends qualified); what falls outside the window does not count."""
    counted = [r for r in receipts if r.occurred_at in window and r.kept]
    kind, target = challenge.kind, challenge.target
    if kind == "purchases":
        return Progress(Decimal(len(counted)), target)
    if kind == "spend":
        return Progress(sum((_spent(challenge, r) for r in counted), _ZERO), target)
    if kind == "categories":
        wanted = set(challenge.categories)
        bought = {
            line.category
            for r in counted
            for line in r.lines
            if not wanted or line.category in wanted
        }
        return Progress(Decimal(len(bought)), target)
    if kind == "streak":
        zone = ZoneInfo(timezone)
        weeks = {_week(r.occurred_at, zone) for r in counted}
        until = min(now, window.ends - timedelta(microseconds=1))
        return Progress(Decimal(_streak(weeks, int(target), _week(until, zone))), target)
    return Progress(Decimal(sum(1 for moment in referrals if moment in window)), target)


def _spent(challenge: Challenge, receipt: ChallengeReceipt) -> Decimal:
    """The money of a receipt's lines that count, less the refunded share of the receipt."""
    wanted = challenge.categories
    spent = sum(
        (line.amount for line in receipt.lines if not wanted or line.category in wanted), _ZERO
    )
    return spent * (receipt.total - receipt.refunded) / receipt.total


def _week(moment: datetime, zone: ZoneInfo) -> int:
    """The number of the calendar week (Monday to Sunday) holding `moment` on `zone`'s clock."""
    return (moment.astimezone(zone).date().toordinal() - 1) // 7  # day 1 was a Monday


def _streak(weeks: set[int], goal: int, this_week: int) -> int:
    """`goal` when some run of consecutive weeks reaches it; else the run that ends this week
    or last week (still alive); else 0."""
    run, alive, previous = 0, 0, None
    for week in sorted(weeks):
        run = run + 1 if previous == week - 1 else 1
        if run >= goal:
            return goal
        if week >= this_week - 1:
            alive = run
        previous = week
    return alive


def progress_news(before: Progress, after: Progress) -> News | None:
    """What to tell the member after progress moved: "completed" when it just reached the
    goal, "halfway" when it just reached half of it, else None."""
    if after.done and not before.done:
        return "completed"
    if after.halfway and not before.halfway and not after.done:
        return "halfway"
    return None
