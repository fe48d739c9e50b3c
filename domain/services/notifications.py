"""Reading and settling the outbox: what is waiting, what was sent, what cannot be."""

from __future__ import annotations

from datetime import datetime

from domain.models import Notification
from domain.ports import UnitOfWork


async def pending_notifications(uow: UnitOfWork, limit: int = 50) -> list[Notification]:
    """The oldest notifications not yet sent nor given up on."""
    async with uow:
        return list(await uow.outbox.pending(limit))


async def notification_sent(uow: UnitOfWork, notification_id: int, now: datetime) -> None:
    """Record a delivery, so a restart never sends it again."""
    async with uow:
        await uow.outbox.mark_sent(notification_id, now)


async def notification_failed(uow: UnitOfWork, notification: Notification, now: datetime,
                              error: str, final: bool) -> None:
    """Record a failed attempt; a final one also marks a blocked member unreachable."""
    async with uow:
        await uow.outbox.mark_failed(notification.id, now, error, final)
        if final and error == "blocked":
            await uow.members.update_profile(notification.member_id, reachable=False)
