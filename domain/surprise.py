"""Surprise and delight: a seeded draw among loyal members, within a daily points budget.

A draw happens on program-local days whose ordinal is a multiple of `every_days`. A member
is eligible with at least `eligible_min_purchases` purchases in the last 90 days. Each
eligible member wins with `probability`; when more win than the budget pays for, a seeded
sample of them keeps the prize. The same seed and the same eligible members give the same
winners, so a draw re-run after a crash picks the same people.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.program import SurpriseRules

LOOKBACK = timedelta(days=90)


def draw_day(now: datetime, timezone: str) -> date:
    """The program-local date a draw at `now` belongs to."""
    return now.astimezone(ZoneInfo(timezone)).date()


def is_draw_day(day: date, rules: SurpriseRules) -> bool:
    """Whether a draw happens on `day`: every `every_days` days."""
    return day.toordinal() % rules.every_days == 0


def slots_left(rules: SurpriseRules, granted: int) -> int:
    """How many more surprises the day's budget pays for, `granted` points already given."""
    if rules.bonus <= 0:
        return 0
    return max(rules.daily_budget - granted, 0) // rules.bonus


def draw(
    eligible: Iterable[int], rules: SurpriseRules, rng: random.Random, slots: int
) -> list[int]:
    """The winners among `eligible` member ids (taken in ascending order), at most `slots`."""
    winners = [member_id for member_id in sorted(eligible) if rng.random() < rules.probability]
    if len(winners) > slots:
        winners = sorted(rng.sample(winners, slots))
    return winners
