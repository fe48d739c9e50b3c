"""Broadcasts on SQLite and PostgreSQL: segments, queuing, progress, cancelling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.broadcasts import BroadcastContent, BroadcastProgress
from domain.outbox import Outcome
from domain.segments import Segment
from domain.services.broadcasts import (
    broadcast_progress,
    cancel_broadcast,
    count_segment,
    get_broadcast,
    queue_broadcast,
    recent_broadcasts,
    set_broadcast_status_message,
)
from domain.services.notifications import claim_notifications, settle_notifications
from storage.tables import OutboxRow
from tests.conftest import NOW
from tests.delivery.helpers import add_members, add_purchase, set_balance

HELLO = BroadcastContent("<b>Hello</b>", button_text="Shop", button_url="https://x.example")


async def recipients(database, broadcast_id: int) -> list[int]:
    async with database.reader.connect() as conn:
        rows = await conn.execute(
            select(OutboxRow.c.member_id)
            .where(OutboxRow.c.broadcast_id == broadcast_id)
            .order_by(OutboxRow.c.member_id)
        )
        return list(rows.scalars())


@pytest.fixture
async def crowd(database) -> None:
    """Ten members of every kind a segment can pick out."""
    await add_members(database, [1, 2], tier="Insider")
    await add_members(database, [3], locale="es")
    await add_members(database, [4], joined_at=NOW - timedelta(days=3))  # new, not inactive
    await add_members(database, [5], marketing_opt_in=False)
    await add_members(database, [6], reachable=False)
    await add_members(database, [7], telegram_id=None, forgotten_at=NOW)
    await add_members(database, [8, 9, 10])
    await set_balance(database, 8, 500)
    await set_balance(database, 9, 100)
    await add_purchase(database, 9, "shoes", NOW - timedelta(days=2))
    await add_purchase(database, 10, "coffee", NOW - timedelta(days=200))
    await add_purchase(database, 5, "shoes", NOW - timedelta(days=1))


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        (Segment(), [1, 2, 3, 4, 8, 9, 10]),
        (Segment(tier="Insider"), [1, 2]),
        (Segment(locale="es"), [3]),
        (Segment(inactive_days=30), [1, 2, 3, 8, 10]),
        (Segment(category="shoes"), [9]),
        (Segment(category="coffee"), [10]),
        (Segment(min_balance=100), [8, 9]),
        (Segment(min_balance=100, inactive_days=30), [8]),
        (Segment(tier="Insider", locale="es"), []),
    ],
)
async def test_segments_choose_recipients_in_the_database(database, uow, crowd, segment, expected):
    assert await count_segment(uow, segment, NOW) == len(expected)
    broadcast_id = await queue_broadcast(uow, HELLO, segment, "admin:1", NOW)
    assert await recipients(database, broadcast_id) == expected
    progress = await broadcast_progress(uow, broadcast_id)
    assert progress == BroadcastProgress(total=len(expected), pending=len(expected))


async def test_a_broadcast_keeps_its_content_and_segment(uow, crowd):
    segment = Segment(tier="Insider", min_balance=10)
    broadcast_id = await queue_broadcast(uow, HELLO, segment, "admin:1", NOW)
    await set_broadcast_status_message(uow, broadcast_id, 99, 1234)
    broadcast = await get_broadcast(uow, broadcast_id)
    assert broadcast is not None
    assert (broadcast.content, broadcast.segment, broadcast.state) == (HELLO, segment, "running")
    assert (broadcast.status_chat_id, broadcast.status_message_id) == (99, 1234)
    assert await get_broadcast(uow, broadcast_id + 1) is None
    assert await broadcast_progress(uow, broadcast_id + 1) is None


async def test_progress_counts_each_state_and_a_drained_broadcast_is_done(uow, crowd):
    broadcast_id = await queue_broadcast(uow, HELLO, Segment(tier="Insider"), "admin", NOW)
    [one, two] = await claim_notifications(uow, "w", NOW, NOW + timedelta(seconds=30), 10)
    await settle_notifications(
        uow,
        "w",
        [Outcome(one.id, one.member_id, "sent", NOW, message_id=7, broadcast_id=broadcast_id)],
    )
    assert await broadcast_progress(uow, broadcast_id) == BroadcastProgress(2, sent=1, pending=1)
    assert (await get_broadcast(uow, broadcast_id)).state == "running"
    await settle_notifications(
        uow,
        "w",
        [
            Outcome(
                two.id,
                two.member_id,
                "failed",
                NOW,
                error="Bad Request: x",
                broadcast_id=broadcast_id,
            )
        ],
    )
    assert await broadcast_progress(uow, broadcast_id) == BroadcastProgress(2, sent=1, failed=1)
    assert (await get_broadcast(uow, broadcast_id)).state == "done"


async def test_cancel_stops_what_is_pending(uow, crowd):
    broadcast_id = await queue_broadcast(uow, HELLO, Segment(), "admin", NOW)
    [first] = await claim_notifications(uow, "w", NOW, NOW + timedelta(seconds=30), 1)
    await settle_notifications(
        uow, "w", [Outcome(first.id, first.member_id, "sent", NOW, message_id=1)]
    )
    assert await cancel_broadcast(uow, broadcast_id, NOW) == 6
    assert await cancel_broadcast(uow, broadcast_id, NOW) == 0
    assert await broadcast_progress(uow, broadcast_id) == BroadcastProgress(7, sent=1, cancelled=6)
    assert (await get_broadcast(uow, broadcast_id)).state == "cancelled"
    assert await claim_notifications(uow, "w", NOW, NOW + timedelta(seconds=30), 10) == []


def test_segment_round_trips_and_refuses_nonsense():
    segment = Segment(tier="Gold", inactive_days=30, category="shoes", locale="es", min_balance=5)
    assert Segment.from_dict(segment.as_dict()) == segment
    assert Segment().as_dict() == {}
    assert Segment().everyone
    with pytest.raises(ValueError, match="unknown segment conditions: colour"):
        Segment.from_dict({"colour": "red"})
    with pytest.raises(ValueError, match="inactive_days"):
        Segment(inactive_days=-1)


async def test_recent_broadcasts_newest_first_with_progress(uow, crowd):
    first = await queue_broadcast(uow, HELLO, Segment(tier="Insider"), "admin", NOW)
    second = await queue_broadcast(uow, HELLO, Segment(locale="es"), "admin", NOW)
    recent = await recent_broadcasts(uow, limit=10)
    assert [(b.id, p) for b, p in recent] == [
        (second, BroadcastProgress(1, pending=1)),
        (first, BroadcastProgress(2, pending=2)),
    ]
    assert [b.id for b, _ in await recent_broadcasts(uow, limit=1)] == [second]
