"""A broadcast's gift button: bonus points or a reward's voucher, once per member.

The claim is a row keyed by broadcast and member, written in the same transaction as the
points or the voucher: a second press, or two at once, finds the key taken.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.broadcasts import Broadcast, BroadcastProgress
from domain.codes import VOUCHER_CODE_LENGTH, new_code
from domain.errors import NotFound, RewardUnavailable
from domain.ledger import EntryKind, add_months
from domain.models import Member, Voucher
from domain.ports import Posting, UnitOfWork
from domain.program import Program, Reward

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gift:
    """What a press gave: points or a voucher; `again` when it was already claimed."""

    points: int
    voucher: Voucher | None
    reward: Reward | None
    balance: int
    again: bool


async def claim_gift(
    uow: UnitOfWork, program: Program, *, member_id: int, broadcast_id: int, now: datetime
) -> Gift:
    """Give the broadcast's gift to the member once; NotFound if it has none."""
    async with uow:
        broadcast = await uow.broadcasts.get(broadcast_id)
        member = await uow.members.lock(member_id)
        content = broadcast.content if broadcast else None
        if content is None or not (content.bonus_points or content.reward_id):
            raise NotFound("broadcast gift", broadcast_id)
        if member is None or member.forgotten_at is not None:
            raise NotFound("member", member_id)
        if broadcast is not None and member.joined_at > broadcast.created_at:
            # not among its recipients: a forgotten person who joined again, pressing the
            # button of a message their earlier account was sent (and may have claimed)
            raise NotFound("broadcast gift", broadcast_id)
        reward = program.reward(content.reward_id) if content.reward_id else None
        if not await uow.gifts.claim(broadcast_id, member_id, now):
            return Gift(0, None, reward, await uow.ledger.balance(member_id), again=True)
        if content.bonus_points:
            posting = Posting(
                member_id,
                EntryKind.BONUS,
                now,
                reason=f"broadcast #{broadcast_id}",
                actor=f"broadcast:{broadcast_id}",
            )
            posted = await uow.ledger.credit(
                posting, content.bonus_points, add_months(now, program.expiry.months)
            )
            return Gift(content.bonus_points, None, None, posted.balance, again=False)
        voucher = await free_voucher(uow, member, reward, now)
        return Gift(0, voucher, reward, await uow.ledger.balance(member_id), again=False)


async def free_voucher(
    uow: UnitOfWork, member: Member, reward: Reward | None, now: datetime
) -> Voucher:
    """A free voucher for `reward`, taken from its stock like a redemption (a broadcast's
    gift, a birthday treat)."""
    if reward is None:
        raise RewardUnavailable("gone", "the broadcast's reward is no longer in the program")
    if not await uow.rewards.take_stock(reward.id, reward.stock):
        raise RewardUnavailable("out_of_stock", f"{reward.id} is out of stock")
    return await uow.rewards.add_voucher(
        Voucher(
            id=0,
            code=new_code(VOUCHER_CODE_LENGTH),
            member_id=member.id,
            reward_id=reward.id,
            cost=0,
            issued_at=now,
            expires_at=now + timedelta(days=reward.valid_days),
            used_at=None,
            used_by=None,
            request_id=None,
        )
    )


@dataclass(frozen=True)
class StatusReport:
    """A broadcast whose admin sees a status message, with what that message shows now."""

    broadcast: Broadcast
    progress: BroadcastProgress
    locale: str
    shown: str


async def status_reports(uow: UnitOfWork, limit: int = 10) -> list[StatusReport]:
    """The newest broadcasts that have a status message, with their progress."""
    reports = []
    async with uow:
        for broadcast in await uow.broadcasts.recent(limit):
            progress = await uow.broadcasts.progress(broadcast.id)
            shown = await uow.gifts.status_shown(broadcast.id)
            if broadcast.status_message_id is not None and progress and shown:
                reports.append(StatusReport(broadcast, progress, *shown))
    return reports


async def status_shown(uow: UnitOfWork, broadcast_id: int, locale: str, text: str) -> None:
    """Remember what the admin's status message says now, in their language."""
    async with uow:
        await uow.gifts.show_status(broadcast_id, locale, text)


async def bonus_voucher(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    reward_id: str | None,
    why: str,
    now: datetime,
) -> Voucher | None:
    """The free voucher a reward given beside points brings (a challenge, a birthday, a
    referral milestone), or None: none given, or out of stock (logged; the points are paid)."""
    if reward_id is None:
        return None
    try:
        return await free_voucher(uow, member, program.reward(reward_id), now)
    except RewardUnavailable as unavailable:
        log.warning(
            "%s of member %s: no %s voucher (%s); the points are paid",
            why,
            member.id,
            reward_id,
            unavailable,
        )
        return None
