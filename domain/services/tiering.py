"""Keeping a member's tier in step with their tier credits."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.models import Member
from domain.ports import UnitOfWork
from domain.program import Program
from domain.tiers import TierStatus, evaluate_tier


def window_start(program: Program, now: datetime) -> datetime:
    """Where the program's rolling window of tier credits ending at `now` starts (exclusive)."""
    return now - timedelta(days=program.tiers.window_days)


async def tier_credits(uow: UnitOfWork, program: Program, member_id: int, now: datetime) -> int:
    """Tier credits in the program's rolling window ending at `now`."""
    return await uow.tier_credits.total_since(member_id, window_start(program, now))


def tier_status(program: Program, member: Member, credits: int, now: datetime) -> TierStatus:
    """The tier (and grace) `member` holds at `now` with `credits` in the window."""
    current = TierStatus(member.tier, member.tier_below_since)
    return evaluate_tier(program.tiers, current, credits, now)


async def refresh_tier(uow: UnitOfWork, program: Program, member: Member, now: datetime) -> str:
    """Re-evaluate and store a member's tier inside the caller's transaction; returns it."""
    credits = await tier_credits(uow, program, member.id, now)
    status = tier_status(program, member, credits, now)
    if status != TierStatus(member.tier, member.tier_below_since):
        await uow.members.set_tier(member.id, status.tier, status.below_since)
    return status.tier


async def review_tiers(uow: UnitOfWork, program: Program, now: datetime) -> int:
    """Downgrade members whose grace has run out (a daily job); returns how many changed.

    One member per transaction, so the review never holds two members' locks at once.
    """
    async with uow:
        member_ids = await uow.members.ids_above_tier(program.tiers.levels[0].name)
    changed = 0
    for member_id in member_ids:
        async with uow:
            member = await uow.members.lock(member_id)
            if member is None:
                continue
            tier = await refresh_tier(uow, program, member, now)
            if tier != member.tier:
                changed += 1
            if program.tiers.rank(tier) < program.tiers.rank(member.tier):
                await uow.outbox.add(
                    member_id, "tier_down", {"tier": tier, "previous": member.tier}, now
                )
    return changed
