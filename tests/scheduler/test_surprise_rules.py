"""The surprise draw: draw days, the budget, and reproducibility with a seed."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from domain.program import SurpriseRules
from domain.surprise import draw, draw_day, is_draw_day, slots_left

RULES = SurpriseRules(
    every_days=1, probability=0.5, daily_budget=1000, bonus=100, eligible_min_purchases=3
)


def test_the_budget_caps_the_winners():
    assert slots_left(RULES, 0) == 10
    assert slots_left(RULES, 950) == 0
    winners = draw(range(1, 1001), RULES, random.Random(1), slots_left(RULES, 0))
    assert len(winners) == 10
    assert winners == sorted(winners)


def test_no_winners_without_budget_or_bonus():
    assert draw(range(100), RULES, random.Random(1), 0) == []
    assert slots_left(SurpriseRules(1, 1.0, 1000, 0, 0), 0) == 0


def test_the_probability_applies_to_each_member():
    winners = draw(range(10_000), RULES, random.Random(7), 10_000)
    assert 4_700 < len(winners) < 5_300


def test_the_same_seed_draws_the_same_winners_in_any_order():
    eligible = list(range(1, 501))
    first = draw(eligible, RULES, random.Random("2026-03-02"), 10)
    again = draw(reversed(eligible), RULES, random.Random("2026-03-02"), 10)
    other = draw(eligible, RULES, random.Random("2026-03-03"), 10)
    assert first == again
    assert first != other


def test_draw_days_are_program_local_and_every_n_days():
    late_utc = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # still March 2 in New York
    assert draw_day(late_utc, "America/New_York") == date(2026, 3, 2)
    every_third = SurpriseRules(3, 0.5, 1000, 100, 3)
    days = [date(2026, 3, d) for d in range(1, 10)]
    assert sum(is_draw_day(d, every_third) for d in days) == 3
    assert all(is_draw_day(d, RULES) for d in days)
