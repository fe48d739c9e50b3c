"""Rewarding a referrer when their friend qualifies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.ledger import EntryKind, add_months
from domain.models import Member, Voucher
from domain.ports import Posting, UnitOfWork
from domain.program import Milestone, Program
from domain.referrals import local_day, next_milestone
from domain.services.challenges import settle_challenges
from domain.services.forgetting import returning_person
from domain.services.gifts import bonus_voucher


@dataclass(frozen=True)
class ReferralReward:
    """What a referrer got when a friend qualified (status 'rewarded' or 'capped')."""

    referrer_id: int
    status: str
    bonus: int
    milestone_bonuses: tuple[int, ...]
    milestone_vouchers: tuple[Voucher, ...] = ()


async def qualify_referral(
    uow: UnitOfWork,
    program: Program,
    invitee_id: int,
    now: datetime,
    qualified_at: datetime | None = None,
) -> ReferralReward | None:
    """Qualify the invitee's pending referral, inside the caller's transaction.

    Beyond `daily_cap` rewarded friends a day the referral is 'capped': it is recorded
    but earns nothing and does not count towards milestones. The day is that of
    `qualified_at` (when the friend's first purchase happened; `now` by default), never
    before they joined: friends who bought on different days count on their own days
    even when the till sends their receipts together.
    """
    referral = await uow.referrals.pending_for_invitee(invitee_id)
    if referral is None:
        return None
    referrer = await uow.members.lock(referral.referrer_id)
    rules = program.referrals
    if referrer is None or referrer.forgotten_at is not None:
        await uow.referrals.set_status(referral.id, "void", now)
        return None
    day = max(qualified_at or now, referral.joined_at)
    start, end = local_day(day, program.info.timezone)
    if await uow.referrals.rewarded_between(referrer.id, start, end) >= rules.daily_cap:
        await uow.referrals.set_status(referral.id, "capped", day)
        return ReferralReward(referrer.id, "capped", 0, ())
    await uow.referrals.set_status(referral.id, "rewarded", day)
    expires = add_months(now, program.expiry.months)
    reference = f"referral:{invitee_id}"
    if rules.referrer_bonus:
        await uow.ledger.credit(
            Posting(referrer.id, EntryKind.REFERRAL, now, reference=reference),
            rules.referrer_bonus,
            expires,
        )
    # friends who qualified for the referrer's earlier, forgotten accounts count on: their
    # milestones were paid then and are not paid again
    before = await friends_before(uow, referrer)
    rewarded = before + await uow.referrals.count(referrer.id, "rewarded")
    await uow.outbox.add(referrer.id, "friend_qualified", {"bonus": rules.referrer_bonus}, now)
    milestone_bonuses, milestone_vouchers = [], []
    for milestone in rules.milestones:
        if before < milestone.count <= rewarded and await uow.referrals.add_milestone(
            referrer.id, milestone.count, now
        ):
            milestone_bonuses.append(milestone.bonus)
            voucher = await bonus_voucher(
                uow, program, referrer, milestone.reward, f"milestone {milestone.count}", now
            )
            if voucher is not None:
                milestone_vouchers.append(voucher)
            await uow.outbox.add(
                referrer.id,
                "milestone_reached",
                {
                    "count": milestone.count,
                    "bonus": milestone.bonus,
                    "reward": voucher.reward_id if voucher else None,
                    "code": voucher.code if voucher else None,
                    "expires_at": voucher.expires_at.isoformat() if voucher else None,
                },
                now,
            )
            if milestone.bonus:
                posting = Posting(
                    referrer.id,
                    EntryKind.REFERRAL_MILESTONE,
                    now,
                    reference=f"milestone:{milestone.count}",
                )
                await uow.ledger.credit(posting, milestone.bonus, expires)
    await settle_challenges(uow, program, [referrer], now)
    return ReferralReward(
        referrer.id,
        "rewarded",
        rules.referrer_bonus,
        tuple(milestone_bonuses),
        tuple(milestone_vouchers),
    )


@dataclass(frozen=True)
class ReferralStats:
    """How a member's invitations are going."""

    joined: int
    rewarded: int
    next_milestone: Milestone | None


async def friends_before(uow: UnitOfWork, member: Member) -> int:
    """Friends who qualified for the accounts this person had before they were forgotten."""
    person = await returning_person(uow, member.telegram_id)
    return 0 if person is None else person.referrals_rewarded


async def referral_stats(uow: UnitOfWork, program: Program, member_id: int) -> ReferralStats:
    """Friends who joined, friends who qualified and were rewarded, the next milestone
    (counting the qualified friends of the person's earlier, forgotten accounts)."""
    async with uow:
        member = await uow.members.get(member_id)
        before = 0 if member is None else await friends_before(uow, member)
        joined = before + await uow.referrals.count(member_id)
        rewarded = before + await uow.referrals.count(member_id, "rewarded")
    return ReferralStats(joined, rewarded, next_milestone(program.referrals, rewarded))
