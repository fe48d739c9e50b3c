"""Actions that earn, birthdays and /top end to end on each framework: the real bot against
the emulator, a channel join verified through getChatMember (and the start-up warning for
a channel the bot cannot check), a link approved by the admin, a birthday picked in
/settings and paid at 10:00 on the member's clock, and the month's leaderboard."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel import Locale

from bot.app import run_bot
from bot.emulator import Emulator, SimulatedUser
from domain.earning import PurchaseLine
from domain.program_file import default_program_path, load_program
from domain.services.birthdays import pay_birthdays
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.e2e.conftest import ADMIN_ID, BOT, TOKEN, bot_settings, started

ACTIONS = """
[[actions]]
id = "news"
title = { en = "Join our channel", es = "Únete a nuestro canal" }
kind = "telegram_channel"
channel = "@northwind_news"
points = 50

[[actions]]
id = "closed"
title = "Join the members' club"
kind = "telegram_channel"
channel = "@northwind_club"
points = 10

[[actions]]
id = "review"
title = "Review us"
kind = "link"
url = "https://example.com/review"
approval = true
points = 40

[[actions]]
id = "birthday"
title = "Birthday treat"
kind = "birthday"
points = 100
reward = "coffee"
"""
ZONE = ZoneInfo("America/New_York")  # the bundled program's


def program_file(tmp_path: Path) -> Path:
    """The bundled program (quiet hours 21:00 to 09:00) with the actions above."""
    path = tmp_path / "program.toml"
    path.write_text(default_program_path().read_text() + ACTIONS)
    return path


@pytest.fixture(params=["aiogram", "ptb"])
async def engaging(
    request: pytest.FixtureRequest, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[tuple[Emulator, str]]:
    """The bot with the actions on each framework, one admin, two channels (the bot is an
    admin of the first only); its database URL."""
    caplog.set_level(logging.WARNING, logger="bot.conversation.channels")
    async with Emulator(token=TOKEN, bot_username=BOT) as emu:
        emu.group(
            -1001001,
            "Northwind news",
            kind="channel",
            username="northwind_news",
            bot_status="administrator",
        )
        emu.group(-1001002, "Members' club", kind="channel", username="northwind_club")
        settings = bot_settings(
            request.param,
            emu,
            tmp_path,
            admin_ids=str(ADMIN_ID),
            loyalty_program=program_file(tmp_path),
        )
        task = asyncio.create_task(run_bot(settings))
        await started(emu)
        yield emu, settings.database_url
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def joined(
    emulator: Emulator, user_id: int, name: str, language: str = "en"
) -> SimulatedUser:
    person = emulator.user(user_id, name, language_code=language)
    await person.send("/start")
    await person.wait_for_message()
    return person


async def test_a_channel_join_is_verified_with_get_chat_member(
    engaging: tuple[Emulator, str], caplog: pytest.LogCaptureFixture
):
    emulator, _ = engaging
    ann = await joined(emulator, 1001, "Ann")  # answered: start-up is over
    [warning] = [r.getMessage() for r in caplog.records if "cannot check" in r.getMessage()]
    assert "action 'closed': the bot cannot check who joined @northwind_club" in warning
    await ann.send("/earn")
    earn = await ann.wait_for_message()
    assert "📣 Join our channel: +50 points · join @northwind_news, then tap Check" in earn.text
    assert earn.buttons[0][0].url == "https://t.me/northwind_news"
    check = await ann.press(earn, 1)
    assert (await check.answered()).text == (
        "You are not in @northwind_news yet. Join it, then tap Check again."
    )
    news = emulator.group(-1001001)
    news.set_member(ann, "member")
    check = await ann.press(earn, 1)
    assert (await check.answered()).text == "🎉 +50 points! Balance: 100 points."
    await emulator.wait_until(lambda: "✅ Join our channel" in (earn.text or ""))
    asked = [
        c
        for c in emulator.calls_to("getChatMember")
        if c.params.get("user_id") == "1001" or c.params.get("user_id") == 1001
    ]
    assert [c.ok for c in asked] == [True, True]
    assert earn.buttons[0][0].url == "https://t.me/northwind_club"  # the news row is gone
    closed = await ann.press(earn, 1)  # the club's Check: the bot is no admin there
    assert (await closed.answered()).text == (
        "Sorry, we cannot check that right now. Please try again later."
    )
    await ann.send("/balance")
    assert "100 points" in (await ann.wait_for_message()).text


async def test_a_link_is_approved_by_the_admin(engaging: tuple[Emulator, str]):
    emulator, _ = engaging
    admin = await joined(emulator, ADMIN_ID, "Alma")
    ann = await joined(emulator, 1001, "Ann")
    await ann.send("/earn")
    earn = await ann.wait_for_message()
    done = await ann.press("✅ Done")
    assert (await done.answered()).text == "Thanks! We will check it and let you know."
    notice = await admin.wait_for_message()
    assert "says they did “Review us” (https://example.com/review)" in notice.text
    await admin.press("✅ Approve")
    await emulator.wait_until(lambda: (notice.text or "").startswith("✅ Approved: Ann"))
    told = await ann.wait_for_message(timeout=10)
    assert told.text == "✅ “Review us” was approved: +40 points! Balance: 90 points."
    assert "⏳ Review us: +40 points · waiting for approval" in earn.text
    await ann.send("/earn")
    assert "✅ Review us: +40 points · done" in (await ann.wait_for_message()).text


def month_button(day: datetime) -> str:
    return str(Locale.parse("en").months["stand-alone"]["abbreviated"][day.month]).capitalize()


async def test_a_birthday_set_in_settings_is_paid_at_10_local(
    engaging: tuple[Emulator, str], tmp_path: Path
):
    emulator, url = engaging
    ann = await joined(emulator, 1001, "Ann")
    birthday = (datetime.now(ZONE) + timedelta(days=40)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    await ann.send("/settings")
    settings = await ann.wait_for_message()
    assert "Birthday: not set" in settings.text
    await ann.press("🎂 Birthday")
    await emulator.wait_until(lambda: "Which month" in (settings.text or ""))
    await ann.press(month_button(birthday))
    await emulator.wait_until(lambda: "Which day" in (settings.text or ""))
    await ann.press(str(birthday.day))
    await emulator.wait_until(lambda: "as your birthday?" in (settings.text or ""))
    await ann.press("✅ Save")
    await emulator.wait_until(
        lambda: "Birthday: " in (settings.text or "") and "not set" not in (settings.text or "")
    )
    program = load_program(program_file(tmp_path))
    database = Database(url)
    try:
        early = await pay_birthdays(
            SqlUnitOfWork(database), program, birthday - timedelta(minutes=1)
        )
        paid = await pay_birthdays(SqlUnitOfWork(database), program, birthday)
    finally:
        await database.dispose()
    assert (early.paid, len(paid.paid)) == ((), 1)
    happy = await ann.wait_for_message(timeout=10)
    assert happy.text.startswith(
        "🎂 Happy birthday! Here are +100 points from us. Balance: 150 points."
    )
    assert "🎁 And a treat: Free coffee. Show this code at the till:" in happy.text
    await ann.send("/vouchers")
    assert "Free coffee" in (await ann.wait_for_message()).text


async def test_top_ranks_the_month(engaging: tuple[Emulator, str], tmp_path: Path):
    emulator, url = engaging
    ann = await joined(emulator, 1001, "Ann")
    ana = await joined(emulator, 1002, "Ana", "es")
    program = load_program(program_file(tmp_path))
    database = Database(url)
    try:
        for person, receipt, amount in ((ann, "T-1", "95"), (ana, "T-2", "195")):
            await record_purchase(
                SqlUnitOfWork(database),
                program,
                ReceiptIn(
                    receipt,
                    MemberRef("telegram_id", str(person.id)),
                    [PurchaseLine("X", "other", 1, Decimal(amount))],
                ),
                now=datetime.now(UTC),
            )
    finally:
        await database.dispose()
    for person in (ann, ana):
        await person.wait_for_message(timeout=10)  # the purchase message
    await ana.send("/settings")
    await ana.wait_for_message()
    await ana.press("🏆 Nombre en /top: no")
    await emulator.wait_until(lambda: "En /top: tu nombre" in (ana.messages[-1].text or ""))
    await ann.send("/top")
    top = await ann.wait_for_message()
    month = datetime.now(ZONE).strftime("%B %Y")
    assert top.text.startswith(f"🏆 Top of {month}\nPoints earned with purchases this month.")
    assert "🥇 Ana · 200 points" in top.text
    assert "🥈 " in top.text
    assert "· 100 points ← you" in top.text
