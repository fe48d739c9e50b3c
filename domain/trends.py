"""Weekly trends of a period: the time series the charts draw.

A period [since, until) is cut into weeks of seven local days from `since` (the last one
shorter when the period is not a whole number of weeks). Storage counts and sums each
week in the database (`WeekFacts`); this module names the figures as docs/metrics.md
defines them for the whole period: members and active members at the week's end, points
issued, redeemed, expired and donated, and net revenue in the week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from domain.errors import InvalidRequest
from domain.metrics import CENT, ISSUED_KINDS, TAKEN_KINDS, local_midnight
from domain.program import Program

WEEK_DAYS = 7
MAX_WEEKS = 260  # five years: each week is a column of one statement, so keep them bounded


@dataclass(frozen=True)
class WeekWindow:
    """One week's instants in UTC: [since, until), and where the active window ending at
    `until` starts."""

    start: date  # the week's first local day
    end: date  # the local day after its last
    since: datetime
    until: datetime
    active_since: datetime


@dataclass(frozen=True)
class WeekFacts:
    """Counts and sums of one week read from the database."""

    members: int  # in the program at the week's end
    active: int  # of them, with a purchase in the active window before the week's end
    credited: dict[str, int]  # points credited in the week, by ledger kind
    debited: dict[str, int]  # points debited in the week, by ledger kind (positive)
    revenue: Decimal  # net of refunds, of the receipts that occurred in the week


@dataclass(frozen=True)
class Week:
    """The figures of one week."""

    start: date
    end: date
    members: int
    active: int
    issued: int
    redeemed: int
    expired: int
    donated: int
    revenue: Decimal


def week_windows(program: Program, since: date, until: date) -> list[WeekWindow]:
    """The weeks of [since, until) from `since`; InvalidRequest when the period is empty,
    reversed or longer than MAX_WEEKS."""
    if until <= since:
        raise InvalidRequest(f"the period must end after it starts: {since} to {until}")
    if (until - since).days > MAX_WEEKS * WEEK_DAYS:
        raise InvalidRequest(f"charts cover at most {MAX_WEEKS} weeks: {since} to {until}")
    zone, active_days = program.info.timezone, timedelta(days=program.metrics.active_days)
    starts = [since + timedelta(days=day) for day in range(0, (until - since).days, WEEK_DAYS)]
    ends = [*starts[1:], until]
    return [
        WeekWindow(
            start,
            end,
            local_midnight(start, zone),
            local_midnight(end, zone),
            local_midnight(end - active_days, zone),
        )
        for start, end in zip(starts, ends, strict=True)
    ]


def week(window: WeekWindow, facts: WeekFacts) -> Week:
    """One week's figures from its facts: `issued` sums every credited kind the report's
    `points.issued` sums, the others are the report's debited kinds."""
    issued = sum(facts.credited.get(kind, 0) for kinds in ISSUED_KINDS.values() for kind in kinds)
    taken = {name: facts.debited.get(kind, 0) for name, kind in TAKEN_KINDS.items()}
    return Week(
        start=window.start,
        end=window.end,
        members=facts.members,
        active=facts.active,
        issued=issued,
        redeemed=taken["redeemed"],
        expired=taken["expired"],
        donated=taken["donated"],
        revenue=facts.revenue.quantize(CENT, ROUND_HALF_UP),
    )
