"""Redeeming rewards for vouchers, and using vouchers at the till."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.codes import VOUCHER_CODE_LENGTH, format_code, new_code, normalize_code
from domain.errors import Conflict, NotFound, RewardUnavailable, VoucherUnusable
from domain.ledger import EntryKind
from domain.models import Member, Voucher
from domain.ports import Posting, UnitOfWork
from domain.program import Program, Reward
from domain.services.surveys import Trigger, queue_surveys
from domain.services.transactions import once


@dataclass(frozen=True)
class Redemption:
    """The voucher issued (or, for a repeated request, the one issued before) and the balance."""

    voucher: Voucher
    reward: Reward
    balance: int
    replayed: bool


@dataclass(frozen=True)
class CatalogueEntry:
    """A reward as one member sees it: stock left and whether they can take it now."""

    reward: Reward
    stock_left: int | None
    affordable: bool
    blocked_by: str | None  # None, or why not: min_tier, limit, out_of_stock


async def redeem_reward(
    uow: UnitOfWork,
    program: Program,
    *,
    member_id: int,
    reward_id: str,
    now: datetime,
    request_id: str | None = None,
) -> Redemption:
    """Spend points on a reward and issue its voucher, all or nothing.

    `request_id` (e.g. a button's nonce) makes a repeated press return the first voucher.
    Raises NotFound, RewardUnavailable (min_tier, limit, out_of_stock) or InsufficientPoints.
    """
    reward = program.reward(reward_id)
    if reward is None:
        raise NotFound("reward", reward_id)
    return await once(uow, lambda: _redeem(uow, program, member_id, reward, now, request_id))


async def _redeem(
    uow: UnitOfWork,
    program: Program,
    member_id: int,
    reward: Reward,
    now: datetime,
    request_id: str | None,
) -> Redemption:
    member = await uow.members.lock(member_id)
    if member is None or member.forgotten_at is not None:
        raise NotFound("member", member_id)
    if request_id is not None:
        previous = await uow.rewards.voucher_by_request(member_id, request_id)
        if previous is not None:
            if previous.reward_id != reward.id:
                raise Conflict(f"request {request_id!r} already redeemed {previous.reward_id}")
            return Redemption(previous, reward, await uow.ledger.balance(member_id), True)
    # stock is left to take_stock's conditional update below: reading it here too is a
    # second query that a concurrent redemption could make stale anyway
    held = await uow.rewards.count_vouchers(member.id, reward.id) if reward.per_member_limit else 0
    blocked = blocked_by(program, member, reward, held)
    if blocked == "min_tier":
        raise RewardUnavailable("min_tier", f"{reward.id} needs tier {reward.min_tier}")
    if blocked == "limit":
        raise RewardUnavailable("limit", f"{reward.id} limit of {reward.per_member_limit} reached")
    posting = Posting(member_id, EntryKind.REDEMPTION, now, reference=f"reward:{reward.id}")
    posted = await uow.ledger.debit(posting, reward.cost)
    if not await uow.rewards.take_stock(reward.id, reward.stock):
        raise RewardUnavailable("out_of_stock", f"{reward.id} is out of stock")
    voucher = await uow.rewards.add_voucher(
        Voucher(
            id=0,
            code=new_code(VOUCHER_CODE_LENGTH),
            member_id=member_id,
            reward_id=reward.id,
            cost=reward.cost,
            issued_at=now,
            expires_at=now + timedelta(days=reward.valid_days),
            used_at=None,
            used_by=None,
            request_id=request_id,
        )
    )
    await queue_surveys(
        uow, program, [Trigger(member, "redemption", f"voucher:{voucher.code}")], now
    )
    return Redemption(voucher, reward, posted.balance, False)


def blocked_by(
    program: Program, member: Member, reward: Reward, held: int, issued: int | None = None
) -> str | None:
    """Why `member` cannot take `reward` now (min_tier, limit, out_of_stock), or None.

    `held`: the member's vouchers for it; `issued`: all its vouchers so far, when known (a
    redemption leaves stock to `take_stock`'s conditional update).
    """
    tiers = program.tiers
    if reward.min_tier and tiers.rank(member.tier) < tiers.rank(reward.min_tier):
        return "min_tier"
    if reward.per_member_limit and held >= reward.per_member_limit:
        return "limit"
    if issued is not None and reward.stock is not None and issued >= reward.stock:
        return "out_of_stock"
    return None


@dataclass(frozen=True)
class Catalogue:
    """The rewards as one member sees them, and the balance they were judged by."""

    balance: int
    entries: list[CatalogueEntry]


async def catalogue(uow: UnitOfWork, program: Program, member: Member) -> Catalogue:
    """Every reward with its stock left and whether `member` can redeem it now (one read)."""
    async with uow:
        shelf = await uow.rewards.shelf(member.id)
    entries = []
    for reward in program.rewards:
        issued = shelf.issued.get(reward.id, 0)
        left = None if reward.stock is None else max(reward.stock - issued, 0)
        blocked = blocked_by(program, member, reward, shelf.held.get(reward.id, 0), issued)
        entries.append(CatalogueEntry(reward, left, shelf.balance >= reward.cost, blocked))
    return Catalogue(shelf.balance, entries)


async def member_vouchers(uow: UnitOfWork, member_id: int) -> list[Voucher]:
    """A member's vouchers, newest first."""
    async with uow:
        return list(await uow.rewards.member_vouchers(member_id))


async def check_voucher(uow: UnitOfWork, code: str) -> Voucher:
    """Look up a voucher by the code a cashier typed."""
    async with uow:
        voucher = await uow.rewards.voucher_by_code(normalize_code(code))
        if voucher is None:
            raise NotFound("voucher", code)
        return voucher


async def use_voucher(uow: UnitOfWork, *, code: str, actor: str, now: datetime) -> Voucher:
    """Mark a voucher used at the till; used, expired or unknown vouchers are refused."""
    async with uow:
        voucher = await uow.rewards.voucher_by_code(normalize_code(code))
        if voucher is None:
            raise NotFound("voucher", code)
        state = voucher.state(now)
        if state == "active" and not await uow.rewards.mark_used(voucher.id, now, actor):
            state = "used"
        if state != "active":
            raise VoucherUnusable(state, f"voucher {format_code(voucher.code)} is {state}")
        used = await uow.rewards.voucher_by_code(voucher.code)
        assert used is not None
        await uow.audit.add(
            now,
            actor,
            "voucher_used",
            {"voucher": used.code, "reward_id": used.reward_id, "member_id": used.member_id},
        )
        return used
