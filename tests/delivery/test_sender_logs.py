"""What the sender logs: one line per failed send with the chat and Telegram's reason, and
a failure that keeps repeating once a minute with a count, not a traceback a second."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.broadcast_status import status_loop
from bot.delivery.trouble import Trouble
from bot.telegram.replies import RecipientBlocked, TelegramRefused, TelegramUnreachable
from tests.conftest import NOW
from tests.delivery.helpers import FakeBotApi, FakeClock, add_members, deliver, new_sender

SENDER = "bot.delivery.sender"


def lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger]


async def notify_each(uow, member_ids) -> None:
    async with uow:
        for member_id in member_ids:
            await uow.outbox.add(member_id, "tier_up", {"tier": "Gold"}, NOW)


async def test_a_failed_send_is_one_line_with_the_chat_and_telegrams_reason(database, uow, caplog):
    caplog.set_level(logging.INFO, SENDER)
    await add_members(database, [1, 2, 3])
    await notify_each(uow, [1, 2, 3])
    api = FakeBotApi(
        errors=[
            TelegramRefused("Bad Request: chat not found"),
            RecipientBlocked("Forbidden: bot was blocked by the user"),
        ]
    )
    await deliver(new_sender(database, api, FakeClock(NOW)))
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in lines(caplog, SENDER)] == [
        (
            "WARNING",
            "outbox: send to chat 1 refused by Telegram: Bad Request: chat not found",
            None,
        ),
        (
            "INFO",
            "outbox: chat 2 has blocked the bot (Forbidden: bot was blocked by the user)",
            None,
        ),
    ]


async def test_telegram_unreachable_is_logged_once_a_minute_with_a_count(database, uow, caplog):
    await add_members(database, range(1, 5))
    await notify_each(uow, range(1, 5))
    clock = FakeClock(NOW)
    api = FakeBotApi(errors=[TelegramUnreachable("Connection refused")] * 5)
    sender = new_sender(database, api, clock)
    await deliver(sender)  # four rows fail in the same second
    clock.advance(61)
    await deliver(sender)  # the first retry fails a minute later, the others go
    messages = [r.getMessage() for r in lines(caplog, SENDER)]
    assert len(messages) == 2
    assert messages[0].startswith("outbox: Telegram unreachable; retrying: send to chat ")
    assert messages[0].endswith(": Connection refused")
    assert messages[1].endswith(": Connection refused (4 times in the last 61 s)")
    assert not any(r.exc_info for r in caplog.records)


async def test_a_database_that_keeps_failing_is_one_line_a_minute(database, caplog):
    clock = FakeClock(NOW)
    calls = 0
    enough = asyncio.Event()

    def broken_writer():
        nonlocal calls
        calls += 1
        clock.advance(1)  # one try a second
        if calls == 150:
            enough.set()
        raise ConnectionRefusedError("the database is down")

    sender = new_sender(database, FakeBotApi(), clock, idle=0.0)
    sender.writer = broken_writer
    task = asyncio.create_task(sender.run())
    await asyncio.wait_for(enough.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    records = lines(caplog, SENDER)
    assert [r.getMessage() for r in records] == [
        "outbox: delivery failing; retrying: the database is down",
        "outbox: delivery failing; retrying: the database is down (60 times in the last 60 s)",
        "outbox: delivery failing; retrying: the database is down (60 times in the last 60 s)",
        "outbox: claims not handed back on stop (the database is down); they lapse after 30 s",
    ]
    assert [bool(r.exc_info) for r in records] == [True, False, False, False]


async def test_a_failing_status_refresh_is_not_logged_every_pass(monkeypatch, caplog):
    monkeypatch.setattr("bot.broadcast_status.REFRESH_SECONDS", 0.0)
    passes = 0
    enough = asyncio.Event()

    def broken_reader():
        nonlocal passes
        passes += 1
        if passes == 50:
            enough.set()
        raise ConnectionRefusedError("the database is down")

    task = asyncio.create_task(status_loop(broken_reader, broken_reader, FakeBotApi(), 25.0))
    await asyncio.wait_for(enough.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [record] = lines(caplog, "bot.broadcast_status")
    assert record.getMessage() == (
        "broadcast status: refresh failing; retrying: the database is down"
    )


def test_trouble_counts_repeats_and_says_when_it_is_over(caplog):
    caplog.set_level(logging.INFO)
    trouble = Trouble(logging.getLogger("t"), "db down", every=60)
    for second in range(0, 130, 10):
        trouble.happened(float(second), "refused")
    trouble.over()
    trouble.happened(200.0, "refused again")
    assert [r.getMessage() for r in caplog.records] == [
        "db down: refused",
        "db down: refused (6 times in the last 60 s)",
        "db down: refused (6 times in the last 60 s)",
        "db down: working again after 13 failures",
        "db down: refused again",
    ]
