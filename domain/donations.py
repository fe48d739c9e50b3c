"""What donated points achieve: progress towards a cause's goal and its impact count."""

from __future__ import annotations

from dataclasses import dataclass

from domain.program import Cause


@dataclass(frozen=True)
class CauseProgress:
    """A cause's total, percent of goal (capped at 100) and impact (trees, meals)."""

    cause: Cause
    points: int
    percent: int
    impact: int


def cause_progress(cause: Cause, points: int) -> CauseProgress:
    """Progress of `points` towards `cause`'s goal."""
    return CauseProgress(cause, points, min(100, points * 100 // cause.goal), impact(cause, points))


def impact(cause: Cause, points: int) -> int:
    """Whole impact units that `points` buy (100 points a tree: 250 points = 2 trees)."""
    return points // cause.points_per_impact
