"""Donating points to a cause."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.donations import CauseProgress, cause_progress, impact
from domain.errors import Conflict, InvalidRequest, NotFound
from domain.ledger import EntryKind
from domain.ports import Posting, UnitOfWork
from domain.program import Cause, Program
from domain.services.transactions import once

MAX_DONATION = 10_000_000


@dataclass(frozen=True)
class DonationOutcome:
    """The cause's progress after the gift and the member's own giving to it."""

    cause: Cause
    points: int
    progress: CauseProgress
    member_points: int
    member_impact: int
    balance: int
    replayed: bool


async def donate(
    uow: UnitOfWork,
    program: Program,
    *,
    member_id: int,
    cause_id: str,
    points: int,
    now: datetime,
    request_id: str | None = None,
) -> DonationOutcome:
    """Move points from a member to a cause; InsufficientPoints when the balance is short."""
    cause = program.cause(cause_id)
    if cause is None:
        raise NotFound("cause", cause_id)
    if not 1 <= points <= MAX_DONATION:
        raise InvalidRequest(f"a donation must be 1..{MAX_DONATION} points")
    return await once(uow, lambda: _donate(uow, cause, member_id, points, now, request_id))


async def _donate(
    uow: UnitOfWork,
    cause: Cause,
    member_id: int,
    points: int,
    now: datetime,
    request_id: str | None,
) -> DonationOutcome:
    member = await uow.members.lock(member_id)  # a twin tap waits, then finds its donation
    if member is None or member.forgotten_at is not None:
        raise NotFound("member", member_id)
    previous = None
    if request_id is not None:
        previous = await uow.causes.donation_by_request(member_id, request_id)
        if previous is not None and previous != (cause.id, points):
            raise Conflict(f"request {request_id!r} already gave other points to another cause")
    replayed = previous is not None
    if not replayed:
        posting = Posting(member_id, EntryKind.DONATION, now, reference=f"cause:{cause.id}")
        posted = await uow.ledger.debit(posting, points)
        await uow.causes.add_donation(
            member_id, cause.id, points, posted.transaction_id, now, request_id
        )
    given = await uow.causes.member_total(member_id, cause.id)
    return DonationOutcome(
        cause=cause,
        points=points,
        progress=cause_progress(cause, await uow.causes.total(cause.id)),
        member_points=given,
        member_impact=impact(cause, given),
        balance=await uow.ledger.balance(member_id),
        replayed=replayed,
    )


async def causes_overview(uow: UnitOfWork, program: Program) -> list[CauseProgress]:
    """Every cause with its progress towards the goal."""
    async with uow:
        return [cause_progress(c, await uow.causes.total(c.id)) for c in program.causes]
