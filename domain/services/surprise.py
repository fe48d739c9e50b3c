"""The surprise draw: bonus points with a warm message, within the day's budget.

The draw is idempotent per program-local day given the same seed: winners are drawn as if
nothing had been given yet, those already surprised that day are skipped, and the budget
is taken with a conditional update, so re-runs and other processes never exceed it. No
draw starts inside the quiet hours on the program's clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from domain.errors import DuplicateKey
from domain.ledger import EntryKind, add_months
from domain.nudges import in_quiet_hours
from domain.ports import Posting, UnitOfWork
from domain.program import Program
from domain.surprise import LOOKBACK, draw, draw_day, is_draw_day, slots_left

Grant = Literal["granted", "skipped", "spent"]


@dataclass(frozen=True)
class SurpriseRun:
    """One draw: its day, whether it took place, the eligible count and who got points."""

    day: str
    drawn: bool
    eligible: int
    surprised: tuple[int, ...]


async def run_surprise(
    uow: UnitOfWork, program: Program, now: datetime, rng: random.Random
) -> SurpriseRun:
    """Draw the day's winners with `rng` and give each the bonus, one transaction each."""
    rules, timezone = program.surprise, program.info.timezone
    day = draw_day(now, timezone)
    if not is_draw_day(day, rules) or in_quiet_hours(now, timezone, program.nudges.quiet_hours):
        return SurpriseRun(day.isoformat(), False, 0, ())
    async with uow:
        eligible = await uow.surprises.eligible(now - LOOKBACK, rules.eligible_min_purchases)
    surprised = []
    for member_id in draw(eligible, rules, rng, slots_left(rules, 0)):
        outcome = await _grant(uow, program, member_id, day.isoformat(), now)
        if outcome == "spent":
            break
        if outcome == "granted":
            surprised.append(member_id)
    return SurpriseRun(day.isoformat(), True, len(eligible), tuple(surprised))


async def _grant(
    uow: UnitOfWork, program: Program, member_id: int, day: str, now: datetime
) -> Grant:
    """Give one winner the bonus through the ledger and queue their message."""
    rules = program.surprise
    try:
        async with uow:
            member = await uow.members.lock(member_id)
            if (
                member is None
                or member.forgotten_at is not None
                or (await uow.surprises.received(member_id, day))
            ):
                return "skipped"
            if not await uow.surprises.take_budget(day, rules.bonus, rules.daily_budget):
                return "spent"
            posting = Posting(member_id, EntryKind.SURPRISE, now, reference=f"surprise:{day}")
            posted = await uow.ledger.credit(
                posting, rules.bonus, add_months(now, program.expiry.months)
            )
            await uow.surprises.add(member_id, day, rules.bonus, posted.transaction_id, now)
            await uow.outbox.add(
                member_id,
                "surprise_bonus",
                {"points": rules.bonus, "balance": posted.balance},
                now,
                dedupe_key=f"surprise:{day}:{member_id}",
            )
    except DuplicateKey:
        return "skipped"  # another process surprised this member first
    return "granted"
