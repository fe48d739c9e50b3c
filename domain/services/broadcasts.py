"""Broadcasts: preview a segment's size, queue a message to it, follow and cancel it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime

from domain.broadcasts import Broadcast, BroadcastContent, BroadcastProgress
from domain.ports import UnitOfWork
from domain.segments import Segment
from domain.services.conversations import take_step

DraftReader = Callable[[Mapping[str, str]], tuple[BroadcastContent, Segment]]


async def count_segment(uow: UnitOfWork, segment: Segment, now: datetime) -> int:
    """How many members a broadcast to `segment` would reach now (the preview)."""
    async with uow:
        return await uow.broadcasts.count(segment, now)


async def queue_broadcast(
    uow: UnitOfWork, content: BroadcastContent, segment: Segment, created_by: str, now: datetime
) -> int:
    """Store the broadcast and one outbox row per recipient, in one transaction; its id."""
    async with uow:
        return await _queue(uow, content, segment, created_by, now)


async def queue_draft(
    uow: UnitOfWork, drafter: int, step: str, read: DraftReader, created_by: str, now: datetime
) -> int | None:
    """Take `drafter`'s draft at `step` and queue the broadcast it describes, in one
    transaction; None when the draft was gone (a second tap of the same Send button).

    `read` turns the draft's data into the content and segment (InvalidRequest if they no
    longer hold: then nothing is queued and the draft stays).
    """
    async with uow:
        draft = await take_step(uow, drafter, step, now)
        if draft is None:
            return None
        content, segment = read(draft.data)
        return await _queue(uow, content, segment, created_by, now)


async def _queue(
    uow: UnitOfWork, content: BroadcastContent, segment: Segment, created_by: str, now: datetime
) -> int:
    broadcast_id = await uow.broadcasts.add(content, segment, created_by, now)
    await uow.broadcasts.queue(broadcast_id, segment, now)
    return broadcast_id


async def get_broadcast(uow: UnitOfWork, broadcast_id: int) -> Broadcast | None:
    """A broadcast with its content, or None."""
    async with uow:
        return await uow.broadcasts.get(broadcast_id)


async def recent_broadcasts(
    uow: UnitOfWork, limit: int = 10
) -> list[tuple[Broadcast, BroadcastProgress]]:
    """The newest broadcasts first, each with its progress."""
    async with uow:
        recent = await uow.broadcasts.recent(limit)
        progress = [await uow.broadcasts.progress(b.id) for b in recent]
        return [(b, p) for b, p in zip(recent, progress, strict=True) if p is not None]


async def broadcast_progress(uow: UnitOfWork, broadcast_id: int) -> BroadcastProgress | None:
    """Counts of sent, blocked, failed, pending and cancelled messages, or None if unknown."""
    async with uow:
        return await uow.broadcasts.progress(broadcast_id)


async def cancel_broadcast(
    uow: UnitOfWork, broadcast_id: int, now: datetime, reason: str | None = None
) -> int:
    """Stop a running broadcast: its pending messages are cancelled; how many. `reason`: why
    the sender stopped it (Telegram refused its content); None when an admin cancelled it."""
    async with uow:
        return await uow.broadcasts.cancel(broadcast_id, now, reason)


async def cancelled_broadcasts(uow: UnitOfWork, broadcast_ids: Collection[int]) -> set[int]:
    """Which of these broadcasts were cancelled (a sender drops their messages not yet sent)."""
    if not broadcast_ids:
        return set()
    async with uow:
        return await uow.broadcasts.cancelled_among(broadcast_ids)


async def set_broadcast_status_message(
    uow: UnitOfWork, broadcast_id: int, chat_id: int, message_id: int
) -> None:
    """Remember the admin's live status message for a broadcast, to edit as it progresses."""
    async with uow:
        await uow.broadcasts.set_status_message(broadcast_id, chat_id, message_id)
