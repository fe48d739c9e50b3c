"""Announcing promotions: a promotion with `announce = true` is told to the members it is
for when its first stretch opens (`domain.promotions.next_window` from its start).

The scheduler asks every few minutes. The first run that finds a promotion started, and
not over, claims its announcement (a row keyed by the promotion's id and start) and, in the
same transaction, queues one message per member who takes offers (`marketing_opt_in`,
reachable, in its tiers). Each message waits out the member's quiet hours on their own
clock, and is left out when that would bring it after the promotion's end. Later runs and
other processes find the claim taken and tell nobody again; each message's dedupe key
(promotion, start, member) is a second guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain.ports import NewNotification, UnitOfWork
from domain.program import Program, Promotion
from domain.promotions import local_time, next_window
from domain.surveys import ask_at

TEMPLATE = "promotion_started"


@dataclass(frozen=True)
class AnnounceRun:
    """One run: the promotions announced and the messages queued for them."""

    promotions: tuple[str, ...]
    messages: int

    def __str__(self) -> str:
        return f"promotions announced: {', '.join(self.promotions)} ({self.messages} messages)"


def started(promotion: Promotion, local: datetime) -> bool:
    """Whether the promotion's first stretch has opened by the wall-clock `local`, and the
    promotion is not over."""
    first = next_window(promotion, promotion.starts)
    return first is not None and first[0] <= local < promotion.ends


async def announce_promotions(uow: UnitOfWork, program: Program, now: datetime) -> AnnounceRun:
    """Tell the members of every promotion to announce that started by `now`, once each."""
    local = local_time(now, program.info.timezone)
    announced, messages = [], 0
    for promotion in program.promotions:
        if promotion.announce and started(promotion, local):
            told = await _announce(uow, program, promotion, now)
            if told is not None:
                announced.append(promotion.id)
                messages += told
    return AnnounceRun(tuple(announced), messages)


async def _announce(
    uow: UnitOfWork, program: Program, promotion: Promotion, now: datetime
) -> int | None:
    """Claim the promotion's announcement and queue its messages, in one transaction; the
    messages queued, None when it was announced before."""
    starts = promotion.starts.isoformat(timespec="minutes")
    zone = program.info.timezone
    ends = promotion.ends.replace(tzinfo=ZoneInfo(zone))
    context = _context(promotion)
    async with uow:
        if not await uow.promotions.claim_announcement(promotion.id, starts, now):
            return None
        rows = []
        for listener in await uow.promotions.listeners(promotion.tiers):
            own_zone = listener.timezone or zone
            due = ask_at(now, 0, own_zone, program.nudges.quiet_hours)
            if due < ends:
                rows.append(
                    NewNotification(
                        listener.member_id,
                        TEMPLATE,
                        context,
                        dedupe_key=f"promotion:{promotion.id}:{starts}:{listener.member_id}",
                        due_at=due if due > now else None,
                    )
                )
        await uow.outbox.add_many(rows, now)
        await uow.promotions.set_told(promotion.id, starts, len(rows))
    return len(rows)


def _context(promotion: Promotion) -> dict[str, object]:
    """What the message shows (JSON, kept in the outbox): the promotion, its effect and its
    last day (`ends` is exclusive)."""
    return {
        "promotion": promotion.id,
        "gives": {
            "multiplier": None if promotion.multiplier is None else str(promotion.multiplier),
            "bonus": promotion.bonus,
            "categories": list(promotion.categories),
            "skus": list(promotion.skus),
            "min_spend": str(promotion.min_spend) if promotion.min_spend else None,
        },
        "last_day": (promotion.ends - timedelta(microseconds=1)).date().isoformat(),
    }
