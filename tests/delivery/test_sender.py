"""The sender against a fake Bot API, on SQLite and PostgreSQL: every outcome recorded."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.conversation.actions import Button
from bot.delivery import MemorySlots, RateLimiter
from bot.delivery.outcomes import MAX_ATTEMPTS, backoff
from bot.delivery.sender import to_the_end
from bot.telegram.pace import Pace
from bot.telegram.replies import RecipientBlocked, RetryLater, TelegramRefused, TelegramUnreachable
from domain.broadcasts import BroadcastContent
from domain.segments import Segment
from domain.services.broadcasts import broadcast_progress, cancel_broadcast, queue_broadcast
from domain.services.members import forget
from domain.services.notifications import claim_notifications, release_notifications
from storage.tables import OutboxRow
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.delivery.helpers import FakeBotApi, FakeClock, add_members, deliver, new_sender


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


async def notify(uow, member_id: int, tier: str = "Insider") -> None:
    async with uow:
        await uow.outbox.add(member_id, "tier_up", {"tier": tier}, NOW)


async def rows(database) -> list[tuple]:
    async with database.reader.connect() as conn:
        result = await conn.execute(
            select(
                OutboxRow.c.member_id,
                OutboxRow.c.state,
                OutboxRow.c.telegram_message_id,
                OutboxRow.c.attempts,
                OutboxRow.c.last_error,
                OutboxRow.c.claimed_by,
            ).order_by(OutboxRow.c.id)
        )
        return [tuple(row) for row in result]


async def test_sends_each_once_and_keeps_telegrams_message_id(database, uow, clock):
    await add_members(database, [1, 2])
    await notify(uow, 1)
    await notify(uow, 2)
    api = FakeBotApi()
    await deliver(new_sender(database, api, clock))
    assert [(s.chat_id, "Insider" in s.text) for s in api.sent] == [(1, True), (2, True)]
    assert await rows(database) == [(1, "sent", 1, 1, None, None), (2, "sent", 2, 1, None, None)]
    await deliver(new_sender(database, api, clock))
    assert len(api.sent) == 2


async def test_a_broadcast_is_sent_with_its_content_and_paid_flag(database, uow, clock):
    await add_members(database, [1])
    content = BroadcastContent("<b>Sale</b>", button_text="Shop", button_url="https://x.example")
    await queue_broadcast(uow, content, Segment(), "admin", NOW)
    api = FakeBotApi()
    await deliver(new_sender(database, api, clock, paid=True))
    [message] = api.sent
    assert (message.chat_id, message.text, message.paid) == (1, "<b>Sale</b>", True)
    assert message.buttons == ((Button("Shop", url="https://x.example"),),)


async def test_one_chat_waits_a_second_between_messages(database, uow, clock):
    await add_members(database, [1])
    await notify(uow, 1, "Insider")
    await notify(uow, 1, "Gold")
    api = FakeBotApi()
    sender = new_sender(database, api, clock)
    await deliver(sender)
    assert len(api.sent) == 1
    assert (await rows(database))[1][1:4] == ("pending", None, 0)
    await deliver(sender)  # the second is not due yet: the chat is busy for a second
    assert len(api.sent) == 1
    clock.advance(1.0)
    await deliver(sender)
    assert ["Gold" in s.text for s in api.sent] == [False, True]


async def test_blocked_member_becomes_unreachable_and_is_skipped(database, uow, clock):
    await add_members(database, [1, 2])
    await notify(uow, 1)
    await notify(uow, 2)
    await notify(uow, 1, "Gold")
    api = FakeBotApi(errors=[RecipientBlocked("Forbidden: bot was blocked by the user")])
    sender = new_sender(database, api, clock)
    await deliver(sender)
    clock.advance(1.0)
    await deliver(sender)
    assert [s.chat_id for s in api.sent] == [2]
    assert [(r[0], r[1], r[4]) for r in await rows(database)] == [
        (1, "blocked", "Forbidden: bot was blocked by the user"),
        (2, "sent", None),
        (1, "blocked", "unreachable"),
    ]
    async with uow:
        assert (await uow.members.get(1)).reachable is False


async def test_a_400_fails_with_telegrams_reason(database, uow, clock):
    await add_members(database, [1])
    await notify(uow, 1)
    api = FakeBotApi(errors=[TelegramRefused("Bad Request: can't parse entities")])
    await deliver(new_sender(database, api, clock))
    assert await rows(database) == [
        (1, "failed", None, 1, "Bad Request: can't parse entities", None)
    ]


async def test_a_429_pauses_and_the_message_is_retried(database, uow, clock):
    await add_members(database, [1, 2])
    await notify(uow, 1)
    await notify(uow, 2)
    api = FakeBotApi(errors=[RetryLater(3)])
    sender = new_sender(database, api, clock)
    await deliver(sender)
    assert [s.chat_id for s in api.sent] == []  # member 2's slot came after the 429
    assert [r[1:4] for r in await rows(database)] == [("pending", None, 0)] * 2
    clock.advance(2)
    await deliver(sender)
    assert api.sent == []
    clock.advance(1.5)
    await deliver(sender)
    assert sorted(s.chat_id for s in api.sent) == [1, 2]


async def test_network_trouble_backs_off_then_gives_up(database, uow, clock):
    await add_members(database, [1])
    await notify(uow, 1)
    api = FakeBotApi(errors=[TelegramUnreachable("timeout")] * MAX_ATTEMPTS)
    sender = new_sender(database, api, clock)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        await deliver(sender)
        assert (await rows(database))[0][3] == attempt
        clock.advance(backoff(attempt) - 0.5)
        await deliver(sender)  # not due yet
        assert (await rows(database))[0][3] == attempt
        clock.advance(0.5)
    assert await rows(database) == [(1, "failed", None, MAX_ATTEMPTS, "timeout", None)]
    assert api.sent == []


async def test_nothing_goes_to_a_forgotten_member(database, uow, clock):
    await add_members(database, [1])
    await notify(uow, 1)
    await forget(uow, 1, NOW)
    api = FakeBotApi()
    await deliver(new_sender(database, api, clock))
    assert api.sent == []
    assert [r[1] for r in await rows(database)] == ["cancelled"]


async def test_a_dead_senders_claims_are_retaken_after_the_lease(database, uow, clock):
    await add_members(database, [1])
    await notify(uow, 1)
    dead = new_sender(database, FakeBotApi(), clock, worker="dead", lease=30)
    await dead.send_due()  # claimed and scheduled, then the process "dies": never drained
    for task in list(dead._tasks):
        task.cancel()
    api = FakeBotApi()
    alive = new_sender(database, api, clock, worker="alive", lease=30)
    await deliver(alive)
    assert api.sent == []
    clock.advance(31)
    await deliver(alive)
    assert [s.chat_id for s in api.sent] == [1]


async def test_a_clean_stop_hands_claims_back_at_once(database, uow, clock):
    await add_members(database, [1, 2])
    await notify(uow, 1)
    await notify(uow, 2)
    api = FakeBotApi()
    stopping = new_sender(database, api, clock, worker="old", rate=1)  # one a second
    await stopping.send_due()
    await stopping.stop()  # the first was under way or cancelled; nothing stays claimed
    assert all(row[5] is None for row in await rows(database))
    await deliver(new_sender(database, api, clock, worker="new"))
    assert sorted(s.chat_id for s in api.sent) == [1, 2]


async def test_two_senders_never_take_the_same_row(database, uow, clock):
    await add_members(database, range(1, 41))
    for member_id in range(1, 41):
        await notify(uow, member_id)
    api = FakeBotApi()
    one, two = (new_sender(database, api, clock, worker=w) for w in ("one", "two"))
    await one.send_due()
    await two.send_due()
    await one.drain()
    await two.drain()
    assert sorted(s.chat_id for s in api.sent) == list(range(1, 41))


async def test_a_cancel_drops_sends_already_scheduled(database, uow, clock):
    await add_members(database, range(1, 4))
    broadcast_id = await queue_broadcast(uow, BroadcastContent("Sale"), Segment(), "admin", NOW)

    class CancelOnFirstSend(FakeBotApi):
        async def send(self, action):
            if not self.sent:  # the admin cancels while the first message is in flight
                await cancel_broadcast(uow, broadcast_id, NOW)
                clock.advance(1)  # past the sender's last look at cancellations
            return await super().send(action)

    api = CancelOnFirstSend()
    # All three claimed and scheduled half a second apart; the cancel lands between.
    sender = new_sender(database, api, clock, rate=2)
    await deliver(sender)
    assert [s.chat_id for s in api.sent] == [1]
    progress = await broadcast_progress(uow, broadcast_id)
    assert (progress.sent, progress.cancelled) == (1, 2)


async def test_a_429_met_by_another_process_holds_sends_it_had_scheduled(database, uow, clock):
    await add_members(database, [1, 2])
    await notify(uow, 1)
    await notify(uow, 2)
    shared = MemorySlots()  # stands for the send_pacing table both processes read
    api = FakeBotApi()
    sender = new_sender(database, api, clock, store=shared, rate=50)
    await sender.send_due()  # both scheduled, not yet sent
    await RateLimiter(shared, 50).pause(clock().timestamp() + 5)  # the other process's 429
    clock.advance(1)
    await sender.drain()
    assert api.sent == []
    assert [r[1:4] for r in await rows(database)] == [("pending", None, 0)] * 2
    clock.advance(4)
    await deliver(sender)
    assert sorted(s.chat_id for s in api.sent) == [1, 2]


async def test_outbox_sends_take_their_turns_in_the_pace_replies_share(database, uow, clock):
    await add_members(database, range(1, 11))
    for member_id in range(1, 11):
        await notify(uow, member_id)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    frozen = Pace(clock=lambda: 100.0, sleep=sleep)  # 30 a second, five at once
    api = FakeBotApi(pace=frozen)
    await deliver(new_sender(database, api, clock))  # the sender's own rate: 1000/s
    assert len(api.sent) == 10
    assert [round(s * 30, 6) for s in slept] == [1, 2, 3, 4, 5]  # held to 30/s after five


async def test_the_outbox_claims_nothing_while_replies_queue_for_turns(database, uow, clock):
    await add_members(database, [1])
    await notify(uow, 1)

    async def no_sleep(seconds: float) -> None:
        pass

    queue = Pace(clock=lambda: 100.0, sleep=no_sleep)
    for chat in range(95):  # a burst of replies: three seconds of turns
        await queue.turn(chat, False, deadline=1e9)
    sender = new_sender(database, FakeBotApi(pace=queue), clock)
    wake = await sender.send_due()
    assert wake - clock().timestamp() == pytest.approx(91 / 30 - 1.0)  # queue less lookahead
    assert (await rows(database))[0][5] is None  # not claimed


async def test_a_cancel_lets_the_write_under_way_end_and_is_raised_after():
    ended = asyncio.Event()

    async def write() -> None:  # a statement that SQLite would keep its lock for if cut short
        await asyncio.sleep(0.05)
        ended.set()

    caller = asyncio.create_task(to_the_end(write()))
    await asyncio.sleep(0)  # the write is under way
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert ended.is_set()


async def test_a_claim_cancelled_at_any_moment_leaves_no_write_lock_behind(database, uow):
    # Cut short, 10 of 120 such claims on SQLite left the write lock held (their cursor
    # open) until a garbage collection: the next write waited its whole busy timeout.
    await add_members(database, range(1001, 1041))
    await queue_broadcast(uow, BroadcastContent("Hi"), Segment(), "admin", NOW)
    later = NOW + timedelta(days=1)
    for ticks in range(1, 40):
        claim = claim_notifications(SqlUnitOfWork(database), "w1", later, later, 8)
        claiming = asyncio.create_task(to_the_end(claim))
        for _ in range(ticks):
            await asyncio.sleep(0)
        claiming.cancel()
        with suppress(asyncio.CancelledError):
            await claiming
        await asyncio.wait_for(release_notifications(SqlUnitOfWork(database), "w1"), 5)
