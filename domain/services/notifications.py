"""Reading and settling the outbox: what is due, who claims it, what became of it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from domain.models import Notification
from domain.outbox import Outcome
from domain.ports import UnitOfWork


async def pending_notifications(uow: UnitOfWork, limit: int = 50) -> list[Notification]:
    """The oldest notifications not yet settled."""
    async with uow:
        return list(await uow.outbox.pending(limit))


async def claim_notifications(
    uow: UnitOfWork, worker: str, now: datetime, until: datetime, limit: int
) -> list[Notification]:
    """Take due notifications for one sender until `until`, so no other sender takes them."""
    async with uow:
        return list(await uow.outbox.claim(worker, now, until, limit))


async def settle_notifications(uow: UnitOfWork, worker: str, outcomes: Sequence[Outcome]) -> None:
    """Record outcomes; a member who blocked the bot becomes unreachable, a drained
    broadcast done."""
    async with uow:
        await uow.outbox.settle(worker, outcomes)
        for member_id in {o.member_id for o in outcomes if o.state == "blocked"}:
            await uow.members.update_profile(member_id, reachable=False)
        await uow.broadcasts.finish(
            sorted({o.broadcast_id for o in outcomes if o.broadcast_id is not None})
        )


async def renew_claims(uow: UnitOfWork, worker: str, ids: Collection[int], until: datetime) -> None:
    """Keep a sender's claims on the rows it is sending until `until`, so none lapses under
    a send in flight."""
    async with uow:
        await uow.outbox.renew(worker, ids, until)


async def release_notifications(uow: UnitOfWork, worker: str) -> int:
    """Hand back a stopping sender's unsent claims, so a restart resumes at once."""
    async with uow:
        return await uow.outbox.release(worker)


async def outbox_backlog(uow: UnitOfWork) -> int:
    """How many messages are queued and not yet sent, for the health check."""
    async with uow:
        return await uow.outbox.backlog()
