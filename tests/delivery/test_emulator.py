"""The real bot's sender against the emulator with Telegram's limits on, on both frameworks.

The emulator answers 429 whenever the bot goes faster than it allows, so "no 429" proves the
pace; a per-chat bucket of one message with a 0.95 s refill proves the one-second spacing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app import open_database
from bot.emulator import Emulator
from bot.qr import qr_png
from bot.settings import Settings
from domain.broadcasts import BroadcastContent, BroadcastProgress
from domain.segments import Segment
from domain.services.broadcasts import broadcast_progress, get_broadcast, queue_broadcast
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
    emulator.limits(
        global_per_second=rate, global_burst=burst, per_chat_per_second=1 / 0.95, per_chat_burst=1
    )


def too_fast(emulator: Emulator) -> list[str]:
    return [
        c.error or ""
        for c in emulator.calls_to("sendMessage")
        if not c.ok and "Too Many Requests" in (c.error or "")
    ]


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
async def prepared(
    emulator: Emulator, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[Settings, Database]:
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
        ids = dict(
            (
                await conn.execute(select(OutboxRow.c.member_id, OutboxRow.c.telegram_message_id))
            ).all()
        )
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
    await add_members(database, [1099])  # a chat Telegram does not know: one recipient's 400
    for user_id in (1002, 1004):
        emulator.user(user_id).record.blocked = True  # blocked without the bot being told
    uow = SqlUnitOfWork(database)
    blocked = await queue_broadcast(uow, SALE, Segment(), "admin", NOW)
    broken = await queue_broadcast(
        uow, BroadcastContent("<blink>x</blink>"), Segment(), "admin", NOW
    )
    async with running(settings, emulator):
        assert await until_settled(database, blocked) == BroadcastProgress(
            6, sent=3, blocked=2, failed=1
        )
        refused = await until_settled(database, broken)
    # The broken HTML fails its first recipient; the others would fail alike: stopped.
    assert refused == BroadcastProgress(6, failed=1, blocked=2, cancelled=3)
    async with database.reader.connect() as conn:
        reachable = dict((await conn.execute(select(MemberRow.c.id, MemberRow.c.reachable))).all())
        errors = dict(
            (
                await conn.execute(
                    select(OutboxRow.c.state, OutboxRow.c.last_error).where(
                        OutboxRow.c.broadcast_id == broken, OutboxRow.c.state != "blocked"
                    )
                )
            ).all()
        )
    assert reachable == {1001: True, 1002: False, 1003: True, 1004: False, 1005: True, 1099: True}
    assert "can't parse entities" in errors["failed"].lower()  # PTB drops "Bad Request: "
    assert errors["cancelled"].startswith("stopped: ")
    assert "can't parse entities" in errors["cancelled"].lower()
    assert too_fast(emulator) == []
    await database.dispose()


@pytest.fixture
async def picture_server() -> AsyncIterator[str]:
    """A merchant's web server with one picture, /poster.png; other paths are 404."""
    poster = qr_png("POSTER")

    async def picture(_: web.Request) -> web.Response:
        return web.Response(body=poster, content_type="image/png")

    app = web.Application()
    app.router.add_get("/poster.png", picture)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@frameworks()
async def test_a_photo_by_url_goes_to_everyone_and_a_bad_one_stops_the_broadcast(
    emulator, prepared, picture_server
):
    settings, database = prepared
    await members_on(emulator, database, range(1001, 1004))
    uow = SqlUnitOfWork(database)
    good = await queue_broadcast(
        uow,
        BroadcastContent("<b>New</b> in store", photo=f"{picture_server}/poster.png"),
        Segment(),
        "admin",
        NOW,
    )
    bad = await queue_broadcast(
        uow,
        BroadcastContent("Oops", photo=f"{picture_server}/missing.png"),
        Segment(),
        "admin",
        NOW,
    )
    async with running(settings, emulator):
        assert await until_settled(database, good) == BroadcastProgress(3, sent=3)
        stopped = await until_settled(database, bad)
    for user_id in range(1001, 1004):
        [message] = emulator.user(user_id).messages
        assert (message.photo, message.caption_html) == (qr_png("POSTER"), "<b>New</b> in store")
    assert stopped == BroadcastProgress(3, failed=1, cancelled=2)  # not one failure each
    broadcast = await get_broadcast(uow, bad)
    assert broadcast.state == "cancelled"
    assert "failed to get http url content" in broadcast.stop_reason.lower()  # PTB rewords
    await database.dispose()


@frameworks()
async def test_a_bot_api_slower_than_the_lease_gets_each_message_once(emulator, prepared):
    settings, database = prepared
    settings = settings.model_copy(update={"delivery_lease": 3.0})  # the shortest allowed
    await members_on(emulator, database, range(1001, 1011))
    emulator.answer_slowly(3.5)  # each message delivered at once, answered after the lease
    broadcast_id = await queue_broadcast(SqlUnitOfWork(database), SALE, Segment(), "admin", NOW)
    async with running(settings, emulator):
        progress = await until_settled(database, broadcast_id)
    assert progress == BroadcastProgress(10, sent=10)
    assert [len(emulator.user(u).messages) for u in range(1001, 1011)] == [1] * 10
    await database.dispose()
