"""Manual adjustments, expiry of due lots, and what a member's account looks like."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import InvalidRequest, NotFound
from domain.ledger import EntryKind, Lot, add_months
from domain.models import LedgerRecord, Member
from domain.ports import Posting, UnitOfWork
from domain.program import Program, Reward
from domain.services.tiering import window_start
from domain.tiers import TierProgress, tier_progress

MAX_ADJUSTMENT = 10_000_000


@dataclass(frozen=True)
class ExpiryRun:
    """What one expiry run took: lots closed, points expired, members touched."""

    lots: int
    points: int
    members: int


@dataclass(frozen=True)
class AccountSummary:
    """Everything a member's balance screen shows."""

    member: Member
    balance: int
    progress: TierProgress
    expiring_points: int
    expiring_first: datetime | None
    next_reward: Reward | None


@dataclass(frozen=True)
class HistoryPage:
    """One page of ledger transactions, newest first."""

    records: list[LedgerRecord]
    page: int
    pages: int


async def adjust_points(
    uow: UnitOfWork,
    program: Program,
    *,
    member_id: int,
    points: int,
    reason: str,
    actor: str,
    now: datetime,
) -> int:
    """Add or remove points by hand, with the reason and who did it; returns the balance.

    A removal larger than the balance is refused whole (InsufficientPoints).
    """
    if points == 0 or abs(points) > MAX_ADJUSTMENT:
        raise InvalidRequest(f"an adjustment must be non-zero and at most {MAX_ADJUSTMENT}")
    if not reason.strip():
        raise InvalidRequest("an adjustment needs a reason")
    async with uow:
        member = await uow.members.lock(member_id)
        if member is None or member.forgotten_at is not None:
            raise NotFound("member", member_id)
        posting = Posting(member_id, EntryKind.ADJUSTMENT, now, reason=reason.strip(), actor=actor)
        if points > 0:
            posted = await uow.ledger.credit(
                posting, points, add_months(now, program.expiry.months)
            )
        else:
            posted = await uow.ledger.debit(posting, -points)
        await uow.audit.add(
            now,
            actor,
            "adjustment",
            {
                "member_id": member_id,
                "points": points,
                "reason": reason.strip(),
                "balance": posted.balance,
            },
        )
        await uow.outbox.add(
            member_id,
            "points_adjusted",
            {"points": points, "reason": reason.strip(), "balance": posted.balance},
            now,
        )
        return posted.balance


async def expire_due_points(uow: UnitOfWork, now: datetime, batch: int = 500) -> ExpiryRun:
    """Expire every lot whose time has come: one short transaction per member.

    One member per transaction means no transaction holds two members' accounts, so the
    job can never deadlock with a purchase that rewards a referrer.
    """
    lots = points = 0
    members: set[int] = set()
    while True:
        async with uow:
            due = await uow.ledger.due_lots(now, batch)
        by_member: dict[int, list[Lot]] = {}
        for member_id, lot in due:
            by_member.setdefault(member_id, []).append(lot)
        for member_id, member_lots in by_member.items():
            async with uow:
                posting = Posting(member_id, EntryKind.EXPIRY, now)
                expired = sum([await uow.ledger.expire_lot(posting, lot) for lot in member_lots])
                if expired:
                    await uow.outbox.add(
                        member_id,
                        "points_expired",
                        {"points": expired, "balance": await uow.ledger.balance(member_id)},
                        now,
                    )
            if expired:
                lots, points = lots + len(member_lots), points + expired
                members.add(member_id)
        if len(due) < batch:
            return ExpiryRun(lots, points, len(members))


async def account_summary(
    uow: UnitOfWork,
    program: Program,
    member_id: int,
    now: datetime,
    expiring_within: timedelta = timedelta(days=30),
) -> AccountSummary:
    """Balance, tier progress, points expiring soon and the next reward within reach."""
    async with uow:
        figures = await uow.ledger.figures(
            member_id, window_start(program, now), now + expiring_within
        )
    if figures is None:
        raise NotFound("member", member_id)
    member = figures.member
    eligible = [
        r
        for r in program.rewards
        if not r.min_tier or program.tiers.rank(member.tier) >= program.tiers.rank(r.min_tier)
    ]
    next_reward = min(
        (r for r in eligible if r.cost > figures.balance), key=lambda r: r.cost, default=None
    )
    return AccountSummary(
        member=member,
        balance=figures.balance,
        progress=tier_progress(program.tiers, member.tier, figures.tier_credits),
        expiring_points=figures.expiring_points,
        expiring_first=figures.expiring_first,
        next_reward=next_reward,
    )


async def history(
    uow: UnitOfWork, member_id: int, page: int = 1, page_size: int = 10
) -> HistoryPage:
    """Page `page` (from 1) of a member's ledger, newest first."""
    async with uow:
        total = await uow.ledger.count_transactions(member_id)
        pages = max(1, -(-total // page_size))
        page = min(max(page, 1), pages)
        records = await uow.ledger.history(member_id, page_size, (page - 1) * page_size)
    return HistoryPage(list(records), page, pages)
