"""Claims held while a send is in flight, and handed back when the sender stops, on SQLite
and PostgreSQL: nothing is sent twice by a live process, nothing claimed is lost."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.conversation.actions import Send
from bot.delivery import DeliverySettings, MemorySlots, RateLimiter, Sender
from storage.tables import OutboxRow
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.delivery.helpers import FakeBotApi, FakeClock, add_members, deliver, new_sender


async def notify_each(uow, member_ids) -> None:
    async with uow:
        for member_id in member_ids:
            await uow.outbox.add(member_id, "tier_up", {"tier": "Gold"}, NOW)


async def claims(database) -> dict[int, tuple]:
    """member id: (state, claimed_by, next_attempt_at) of their one row."""
    async with database.reader.connect() as conn:
        rows = await conn.execute(
            select(
                OutboxRow.c.member_id,
                OutboxRow.c.state,
                OutboxRow.c.claimed_by,
                OutboxRow.c.next_attempt_at,
            )
        )
        return {member: (state, worker, retry) for member, state, worker, retry in rows}


@dataclass
class SlowBotApi(FakeBotApi):
    """Takes `seconds` to answer each send (the message counts as delivered at once)."""

    seconds: float = 0.0
    delivered: list[Send] = field(default_factory=list)

    async def send(self, action: Send) -> int:
        self.delivered.append(action)
        await asyncio.sleep(self.seconds)
        return await super().send(action)


@dataclass
class GatedBotApi(FakeBotApi):
    """Each send waits for `gate`; `entered` is set when the first one is under way."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, action: Send) -> int:
        self.entered.set()
        await self.gate.wait()
        return await super().send(action)


async def sent_slowly(database, uow) -> tuple[list[int], SlowBotApi]:
    """Five members notified, sent by a live sender whose Telegram answers after five
    0.5 s leases (more than the 1 s between sends to a chat), until all are sent."""
    members = await add_members(database, range(1, 6))
    await notify_each(uow, members)
    api = SlowBotApi(seconds=2.5)
    settings = DeliverySettings(rate=1000.0, lease=0.5, idle=0.05, lookahead=0.2)
    sender = Sender(
        lambda: SqlUnitOfWork(database),
        lambda: SqlUnitOfWork(database, read_only=True),
        api,
        RateLimiter(MemorySlots(), settings.rate),
        settings,
        worker="live",
    )
    task = asyncio.create_task(sender.run())
    for _ in range(200):
        await asyncio.sleep(0.05)
        if all(state == "sent" for state, _, _ in (await claims(database)).values()):
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return members, api


async def test_a_send_slower_than_the_lease_is_not_claimed_again(database, uow):
    members, api = await sent_slowly(database, uow)
    assert sorted(s.chat_id for s in api.delivered) == members  # each once
    assert {state for state, _, _ in (await claims(database)).values()} == {"sent"}


async def test_a_live_process_never_sends_a_row_twice_even_when_its_claim_lapses(
    database, uow, monkeypatch
):
    async def late_renewal(*args: object) -> None:  # a database slower than the lease
        return None

    monkeypatch.setattr("bot.delivery.sender.renew_claims", late_renewal)
    members, api = await sent_slowly(database, uow)  # every claim lapses mid-send
    assert sorted(s.chat_id for s in api.delivered) == members  # before: each twice or more
    assert {state for state, _, _ in (await claims(database)).values()} == {"sent"}


async def test_a_stop_finishes_the_send_under_way_and_hands_the_rest_back(database, uow):
    members = await add_members(database, range(1, 5))
    await notify_each(uow, members)
    clock = FakeClock(NOW)
    api = GatedBotApi()
    stopping = new_sender(database, api, clock, worker="old", rate=0.5, lookahead=8)
    task = asyncio.create_task(stopping.run())
    await asyncio.wait_for(api.entered.wait(), 5)  # the first under way, three waiting 2 s
    assert {worker for _, worker, _ in (await claims(database)).values()} == {"old"}
    task.cancel()
    api.gate.set()  # Telegram answers while the sender stops
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await claims(database) == {
        1: ("sent", None, None),
        2: ("pending", None, None),
        3: ("pending", None, None),
        4: ("pending", None, None),
    }
    fresh = FakeBotApi()
    await deliver(new_sender(database, fresh, clock, worker="new"))  # at once, same time
    assert [s.chat_id for s in api.sent] == [1]
    assert sorted(s.chat_id for s in fresh.sent) == [2, 3, 4]


async def test_a_send_unanswered_after_the_grace_keeps_its_row_for_a_lease(database, uow):
    members = await add_members(database, range(1, 4))
    await notify_each(uow, members)
    clock = FakeClock(NOW)
    api = GatedBotApi()  # never opened: Telegram does not answer
    stopping = new_sender(
        database, api, clock, worker="old", rate=0.5, lookahead=6, grace=0.2, lease=30
    )
    task = asyncio.create_task(stopping.run())
    await asyncio.wait_for(api.entered.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)  # bounded by the grace
    rows = await claims(database)
    assert rows[1] == ("pending", None, NOW + timedelta(seconds=30))  # perhaps delivered
    assert rows[2] == rows[3] == ("pending", None, None)
    fresh = FakeBotApi()
    await deliver(new_sender(database, fresh, clock, worker="new"))
    assert sorted(s.chat_id for s in fresh.sent) == [2, 3]
    clock.advance(30)
    await deliver(new_sender(database, fresh, clock, worker="new"))  # the crash case
    assert sorted(s.chat_id for s in fresh.sent) == [1, 2, 3]


async def test_a_send_without_an_answer_counts_as_network_trouble(database, uow):
    await add_members(database, [1])
    await notify_each(uow, [1])
    api = GatedBotApi()  # never answers
    await deliver(new_sender(database, api, FakeClock(NOW), request_timeout=0.2))
    async with database.reader.connect() as conn:
        row = (
            await conn.execute(
                select(
                    OutboxRow.c.state,
                    OutboxRow.c.attempts,
                    OutboxRow.c.last_error,
                    OutboxRow.c.claimed_by,
                )
            )
        ).one()
    assert tuple(row) == ("pending", 1, "no answer in 0.2 s", None)  # retried after a backoff
