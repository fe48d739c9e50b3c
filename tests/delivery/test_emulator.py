"""The real bot's sender against the emulator with Telegram's limits on, on both frameworks.

The emulator answers 429 whenever the bot goes faster than it allows, so "no 429" proves the
pace; a per-chat bucket of one message with a 0.95 s refill proves the one-second spacing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import open_database
from bot.emulator import Emulator
from bot.settings import Settings
from domain.broadcasts import BroadcastContent, BroadcastProgress
from domain.segments import Segment
from domain.services.broadcasts import broadcast_progress, queue_broadcast
from storage.database import Database
from storage.tables import MemberRow, OutboxRow
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.delivery.helpers import add_members
from tests.e2e.conftest import bot_settings
from tests.e2e.test_webhook_and_restarts import running

FRAMEWORKS = ["aiogram", "ptb"]
SALE = BroadcastContent("🎉 <b>Sale</b> today")


def strict_limits(emulator: Emulator, rate: float = 26, burst: int = 3) -> None:
    """Bulk sends at `rate` (a little above the bot's 25) with a small burst; one message per
    chat per ~second."""
    emulator.limits(global_per_second=rate, global_burst=burst,
                    per_chat_per_second=1 / 0.95, per_chat_burst=1)


def too_fast(emulator: Emulator) -> list[str]:
    return [c.error or "" for c in emulator.calls_to("sendMessage")
            if not c.ok and "Too Many Requests" in (c.error or "")]


async def members_on(emulator: Emulator, database: Database, ids: range) -> None:
    """Members in the database and their users in the emulator, who started the bot before."""
    await add_members(database, ids)
    for user_id in ids:
        emulator.user(user_id, f"User{user_id}").record.started = True


async def until_settled(database: Database, broadcast_id: int) -> BroadcastProgress:
    for _ in range(600):
        progress = await broadcast_progress(SqlUnitOfWork(database), broadcast_id)
        assert progress is not None
        if progress.finished:
            return progress
        await asyncio.sleep(0.05)
    raise TimeoutError(f"broadcast {broadcast_id} still pending: {progress}")


@pytest.fixture
async def prepared(emulator: Emulator, tmp_path: Path,
                   request: pytest.FixtureRequest) -> tuple[Settings, Database]:
    settings = bot_settings(request.param, emulator, tmp_path, send_rate=25)
    return settings, await open_database(settings)


def frameworks() -> pytest.MarkDecorator:
    return pytest.mark.parametrize("prepared", FRAMEWORKS, indirect=True)


@frameworks()
async def test_a_broadcast_at_the_configured_rate_meets_no_429(emulator, prepared):
    settings, database = prepared
    strict_limits(emulator)
    await members_on(emulator, database, range(1001, 1061))
    broadcast_id = await queue_broadcast(SqlUnitOfWork(database), SALE, Segment(), "admin", NOW)
    async with running(settings, emulator):
        progress = await until_settled(database, broadcast_id)
    assert progress == BroadcastProgress(60, sent=60)
    assert too_fast(emulator) == []
    for user_id in range(1001, 1061):
        [message] = emulator.user(user_id).messages
        assert message.text == "🎉 Sale today"
    async with database.reader.connect() as conn:
        ids = dict((await conn.execute(select(OutboxRow.member_id,
                                              OutboxRow.telegram_message_id))).all())
    assert ids[1001] == emulator.user(1001).messages[0].message_id
    await database.dispose()


@frameworks()
async def test_one_chat_gets_at_most_one_message_a_second(emulator, prepared):
    settings, database = prepared
    strict_limits(emulator)
    await members_on(emulator, database, range(1001, 1003))
    uow = SqlUnitOfWork(database)
    for tier in ("Insider", "Gold", "Platinum"):
        async with uow:
            await uow.outbox.add(1001, "tier_up", {"tier": tier}, NOW)
    broadcast_id = await queue_broadcast(uow, SALE, Segment(), "admin", NOW)
    async with running(settings, emulator):
        await until_settled(database, broadcast_id)
        await emulator.wait_until(lambda: len(emulator.user(1001).messages) == 4, timeout=10)
    assert too_fast(emulator) == []
    await database.dispose()


@frameworks()
async def test_a_429_pauses_and_the_message_is_sent_once_after(emulator, prepared):
    settings, database = prepared
    strict_limits(emulator)
    await members_on(emulator, database, range(1001, 1011))
    emulator.force_429(retry_after=1)
    broadcast_id = await queue_broadcast(SqlUnitOfWork(database), SALE, Segment(), "admin", NOW)
    async with running(settings, emulator):
        progress = await until_settled(database, broadcast_id)
    assert progress == BroadcastProgress(10, sent=10)
    assert len(too_fast(emulator)) == 1  # the injected one, and no other
    assert all(len(emulator.user(u).messages) == 1 for u in range(1001, 1011))
    await database.dispose()


@frameworks()
async def test_blocked_members_and_refused_messages(emulator, prepared):
    settings, database = prepared
    strict_limits(emulator)
    await members_on(emulator, database, range(1001, 1006))
    for user_id in (1002, 1004):
        emulator.user(user_id).record.blocked = True  # blocked without the bot being told
    uow = SqlUnitOfWork(database)
    blocked = await queue_broadcast(uow, SALE, Segment(), "admin", NOW)
    broken = await queue_broadcast(uow, BroadcastContent("<blink>x</blink>"), Segment(),
                                   "admin", NOW)
    async with running(settings, emulator):
        assert await until_settled(database, blocked) == BroadcastProgress(5, sent=3, blocked=2)
        refused = await until_settled(database, broken)
    assert refused == BroadcastProgress(5, failed=3, blocked=2)
    async with database.reader.connect() as conn:
        reachable = dict((await conn.execute(select(MemberRow.id, MemberRow.reachable))).all())
        errors = set((await conn.execute(
            select(OutboxRow.last_error).where(OutboxRow.broadcast_id == broken,
                                               OutboxRow.state == "failed"))).scalars())
    assert reachable == {1001: True, 1002: False, 1003: True, 1004: False, 1005: True}
    [reason] = errors
    assert "can't parse entities" in reason.lower()  # PTB drops "Bad Request: "
    assert too_fast(emulator) == []
    await database.dispose()
