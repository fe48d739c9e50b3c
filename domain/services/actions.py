"""Actions that earn once: a channel joined, a link followed, a phone number shared; the
admins' decision on a link that needs approval; and what /earn shows a member.

Every claim is a row keyed by member and action, written in the same transaction as its
points, so a second tap, or two at once, finds the key taken and pays nothing. A claim
awaiting approval is taken by one conditional update: of two admins deciding at once, one
acts. Whether a member is in a channel is for the caller to ask Telegram first
(`domain.actions.is_channel_member`): the domain makes no calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from domain.errors import NotFound
from domain.ledger import EntryKind, add_months
from domain.models import Member
from domain.ports import ActionClaim, Birthday, Posting, UnitOfWork
from domain.program import Action, Program

ClaimStatus = Literal["pending", "paid", "rejected"]
ONCE = ""  # the period of an action paid once ever (the birthday's is the year)


@dataclass(frozen=True)
class Claimed:
    """What claiming an action came to. `new` is False when the member had claimed it
    before: nothing changed, and `status` says how that claim stands."""

    action: Action
    claim_id: int
    status: ClaimStatus
    new: bool
    points: int
    balance: int


@dataclass(frozen=True)
class Decision:
    """An admin's approval or rejection of a pending claim. `new` is False when it had been
    decided before (by anyone): nothing changed, and `status` is that decision."""

    claim: ActionClaim
    action: Action | None  # None when the program no longer has the action
    member: Member | None  # None when the member was forgotten meanwhile
    status: ClaimStatus
    new: bool
    points: int


@dataclass(frozen=True)
class ActionState:
    """One action as a member sees it in /earn: None (not done yet) or the claim's status;
    a birthday's is this year's."""

    action: Action
    status: ClaimStatus | None


@dataclass(frozen=True)
class EarnOverview:
    """Every action and how it stands for the member, with their birthday and whether
    they shared a phone number."""

    actions: list[ActionState]
    birthday: Birthday | None
    has_phone: bool


async def channel_joined(
    uow: UnitOfWork, program: Program, *, member_id: int, action_id: str, now: datetime
) -> Claimed:
    """Pay a `telegram_channel` action, once: the caller saw Telegram count the member in."""
    return await _claim(
        uow, program, member_id, _action(program, action_id, "telegram_channel"), now
    )


async def link_done(
    uow: UnitOfWork, program: Program, *, member_id: int, action_id: str, now: datetime
) -> Claimed:
    """The member says they followed a `link` action: paid once, or pending until an admin
    decides when the action needs approval."""
    return await _claim(uow, program, member_id, _action(program, action_id, "link"), now)


async def phone_shared(
    uow: UnitOfWork, program: Program, *, member_id: int, now: datetime
) -> Claimed | None:
    """Pay the `phone` action once the member shared their number (None: the program has
    no such action)."""
    action = next((a for a in program.actions if a.kind == "phone"), None)
    return await _claim(uow, program, member_id, action, now) if action else None


async def decide_claim(
    uow: UnitOfWork, program: Program, *, claim_id: int, approve: bool, actor: str, now: datetime
) -> Decision:
    """Approve (pay) or reject a pending claim, once, and tell the member; NotFound for an
    unknown claim. A member forgotten meanwhile is paid nothing and told nothing."""
    async with uow:
        claim = await uow.action_claims.get(claim_id)
        if claim is None:
            raise NotFound("action claim", claim_id)
        action = program.action(claim.action_id)
        member = await uow.members.lock(claim.member_id)
        if member is not None and member.forgotten_at is not None:
            member = None
        status: ClaimStatus = "paid" if approve and member is not None else "rejected"
        if not await uow.action_claims.decide(claim_id, status, now, actor):
            done = await uow.action_claims.get(claim_id)
            assert done is not None
            return Decision(claim, action, member, _status(done.status), False, done.points)
        points = 0
        if member is not None and status == "paid":
            balance = await _pay(uow, program, claim_id, member.id, action, now)
            points = action.points if action else 0
            await uow.outbox.add(
                member.id,
                "action_approved",
                {"action": claim.action_id, "points": points, "balance": balance},
                now,
            )
        elif member is not None:
            await uow.outbox.add(member.id, "action_rejected", {"action": claim.action_id}, now)
        return Decision(claim, action, member, status, True, points)


async def pending_claims(uow: UnitOfWork, limit: int) -> list[tuple[ActionClaim, Member]]:
    """The oldest claims awaiting a decision, with their members (forgotten ones left out)."""
    async with uow:
        found = []
        for claim in await uow.action_claims.pending(limit):
            member = await uow.members.get(claim.member_id)
            if member is not None and member.forgotten_at is None:
                found.append((claim, member))
        return found


async def earn_overview(
    uow: UnitOfWork, program: Program, member: Member, now: datetime
) -> EarnOverview:
    """How each action stands for the member (the birthday's for their current year)."""
    zone = ZoneInfo(member.timezone or program.info.timezone)
    this_year = str(now.astimezone(zone).year)
    async with uow:
        claims = await uow.action_claims.of_member(member.id)
        birthday = await uow.birthdays.get(member.id)
    status = {(c.action_id, c.period): _status(c.status) for c in claims}
    states = [
        ActionState(a, status.get((a.id, this_year if a.kind == "birthday" else ONCE)))
        for a in program.actions
    ]
    return EarnOverview(states, birthday, member.phone is not None)


def _action(program: Program, action_id: str, kind: str) -> Action:
    """The program's action `action_id` of `kind`; NotFound otherwise."""
    action = program.action(action_id)
    if action is None or action.kind != kind:
        raise NotFound("action", action_id)
    return action


def _status(status: str) -> ClaimStatus:
    if status not in ("pending", "paid", "rejected"):
        raise ValueError(f"unknown action claim status {status!r}")
    return status  # type: ignore[return-value]


async def _claim(
    uow: UnitOfWork, program: Program, member_id: int, action: Action, now: datetime
) -> Claimed:
    """Write the claim and, unless it waits for approval, pay it; or read the claim made
    before."""
    status: ClaimStatus = "pending" if action.kind == "link" and action.approval else "paid"
    async with uow:
        member = await uow.members.lock(member_id)
        if member is None or member.forgotten_at is not None:
            raise NotFound("member", member_id)
        claim_id = await uow.action_claims.add(member_id, action.id, ONCE, status, now)
        if claim_id is None:
            before = next(
                c
                for c in await uow.action_claims.of_member(member_id)
                if c.action_id == action.id and c.period == ONCE
            )
            return Claimed(
                action,
                before.id,
                _status(before.status),
                False,
                before.points,
                await uow.ledger.balance(member_id),
            )
        if status == "pending":
            return Claimed(action, claim_id, status, True, 0, await uow.ledger.balance(member_id))
        balance = await _pay(uow, program, claim_id, member_id, action, now)
        return Claimed(action, claim_id, status, True, action.points, balance)


async def _pay(
    uow: UnitOfWork,
    program: Program,
    claim_id: int,
    member_id: int,
    action: Action | None,
    now: datetime,
) -> int:
    """Credit the action's points (none for an action gone from the program) and record
    them on the claim; the member's balance after."""
    if action is None or action.points == 0:
        return await uow.ledger.balance(member_id)
    posting = Posting(member_id, EntryKind.ACTION, now, reference=f"action:{action.id}")
    posted = await uow.ledger.credit(posting, action.points, add_months(now, program.expiry.months))
    await uow.action_claims.settle(claim_id, action.points, posted.transaction_id, None)
    return posted.balance
