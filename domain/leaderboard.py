"""The monthly leaderboard: members ranked by what they earned this month.

The month is the program's calendar month. What counts (points from purchases, less their
refunds, and from challenges; or receipts, with `metric = "purchases"`) is summed by
storage; this module ranks the sums. Ties go to whoever got there first: each score
carries when the member reached it (their last counted entry). Members who chose not to
be named appear as a masked member code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.codes import GROUP, normalize_code

MASK = "•"
SHOWN = 2  # characters of a code left visible at each end


@dataclass(frozen=True)
class Score:
    """A member's total this month and when they reached it."""

    member_id: int
    value: int
    reached_at: datetime


@dataclass(frozen=True)
class Ranked:
    """A member's place: 1 is the top."""

    rank: int
    member_id: int
    value: int


def ranking(scores: Iterable[Score]) -> list[Ranked]:
    """Every member with a positive score, best first; equal scores by who reached theirs
    first (then by member id, so the order never wobbles)."""
    ordered = sorted(
        (s for s in scores if s.value > 0), key=lambda s: (-s.value, s.reached_at, s.member_id)
    )
    return [Ranked(rank, s.member_id, s.value) for rank, s in enumerate(ordered, start=1)]


def rank_of(ranked: Sequence[Ranked], member_id: int) -> Ranked | None:
    """The member's own place, None when they earned nothing this month."""
    return next((r for r in ranked if r.member_id == member_id), None)


def month_bounds(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The program-local calendar month holding `now`, as aware `[start, end)`."""
    local = now.astimezone(ZoneInfo(timezone))
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start, start.replace(year=year, month=month)


def masked_code(code: str) -> str:
    """A member code with its middle hidden, for members who are not named:
    'K7M2Q9XR' -> 'K7••-••XR' (a short code keeps less, down to nothing)."""
    plain = normalize_code(code)
    keep = min(SHOWN, len(plain) // 4)
    hidden = plain[:keep] + MASK * (len(plain) - 2 * keep) + plain[len(plain) - keep :]
    return "-".join(hidden[i : i + GROUP] for i in range(0, len(hidden), GROUP))
