"""/top: the month's leaderboard in the program's time zone, and the member's choice to
appear on it by name.

What counts is earned by buying, which cannot be farmed: the points of purchases (with
their promotions' extra points) less the points their refunds took back, and challenge
bonuses (`COUNTED_KINDS`, the one list to extend as more kinds count), or the receipts
themselves with `metric = "purchases"`. Bonuses, adjustments, referrals and actions do
not count. Storage ranks in one aggregate statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.leaderboard import masked_code, month_bounds
from domain.ledger import EntryKind
from domain.ports import Placing, UnitOfWork
from domain.program import LeaderboardMetric, Program

COUNTED_KINDS: tuple[EntryKind, ...] = (
    EntryKind.PURCHASE,
    EntryKind.REFUND,
    EntryKind.PROMOTION,
    EntryKind.CHALLENGE,
)


@dataclass(frozen=True)
class Place:
    """One line of the board: the rank, who (a first name or a masked code), the score."""

    rank: int
    shown: str
    named: bool
    value: int
    mine: bool


@dataclass(frozen=True)
class Board:
    """The month's top places and the member's own (None: nothing counted yet this month)."""

    metric: LeaderboardMetric
    month: datetime  # the first moment of the month, program-local
    top: list[Place]
    own: Place | None


async def leaderboard(uow: UnitOfWork, program: Program, member_id: int, now: datetime) -> Board:
    """The board of the program-local month holding `now`, as `member_id` sees it."""
    rules = program.leaderboard
    since, until = month_bounds(now, program.info.timezone)
    async with uow:
        if rules.metric == "purchases":
            placings = await uow.leaderboard.by_purchases(since, until, rules.size, member_id)
        else:
            placings = await uow.leaderboard.by_points(
                [str(k) for k in COUNTED_KINDS], since, until, rules.size, member_id
            )
    places = [_place(p, member_id) for p in placings]
    return Board(
        rules.metric,
        since,
        [p for p in places if p.rank <= rules.size],
        next((p for p in places if p.mine), None),
    )


async def is_named(uow: UnitOfWork, member_id: int) -> bool:
    """Whether the member chose to appear by name."""
    async with uow:
        return await uow.leaderboard.is_named(member_id)


async def set_named(uow: UnitOfWork, member_id: int, named: bool, now: datetime) -> bool:
    """Appear on the leaderboard by name (or not) from now on; the choice now in force."""
    async with uow:
        await uow.leaderboard.set_named(member_id, named, now)
        return named


def _place(placing: Placing, member_id: int) -> Place:
    named = placing.name is not None
    shown = placing.name if placing.name is not None else masked_code(placing.code)
    return Place(placing.rank, shown, named, placing.value, placing.member_id == member_id)
