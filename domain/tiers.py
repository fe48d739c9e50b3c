"""Tier status from tier credits: upgrade at once, downgrade only after a grace period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.program import TierRules


@dataclass(frozen=True)
class TierStatus:
    """A member's tier and since when their credits have been below it (None: not below)."""

    tier: str
    below_since: datetime | None


def evaluate_tier(rules: TierRules, current: TierStatus, credits: int, now: datetime) -> TierStatus:
    """The tier a member holds at `now` with `credits` in the rolling window."""
    earned = rules.for_credits(credits)
    if rules.rank(earned.name) >= rules.rank(current.tier):
        return TierStatus(earned.name, None)
    below_since = current.below_since or now
    if now - below_since >= timedelta(days=rules.grace_days):
        return TierStatus(earned.name, None)
    return TierStatus(current.tier, below_since)


@dataclass(frozen=True)
class TierProgress:
    """How far a member is towards the next tier."""

    tier: str
    credits: int
    next_tier: str | None
    next_threshold: int | None
    credits_needed: int
    percent: int


def tier_progress(rules: TierRules, tier: str, credits: int) -> TierProgress:
    """Progress from the current tier's threshold to the next one (100% at the top)."""
    nxt = rules.next_above(tier)
    if nxt is None:
        return TierProgress(tier, credits, None, None, 0, 100)
    floor = rules.get(tier).threshold
    span = max(nxt.threshold - floor, 1)
    percent = max(0, min(100, (credits - floor) * 100 // span))
    return TierProgress(
        tier, credits, nxt.name, nxt.threshold, max(nxt.threshold - credits, 0), percent
    )
