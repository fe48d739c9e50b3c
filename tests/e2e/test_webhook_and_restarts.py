"""Webhook mode with its secret, a restart in the middle of a redemption, phone and blocking."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from bot.app import run_bot
from bot.emulator import Emulator
from bot.settings import Settings
from domain.services.points import adjust_points
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.e2e.conftest import bot_settings

FRAMEWORKS = ["aiogram", "ptb"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def running(settings: Settings, emulator: Emulator) -> AsyncIterator[None]:
    """The bot running until the block ends (its menus set, so it is up)."""
    before = len(emulator.calls_to("setMyCommands"))
    task = asyncio.create_task(run_bot(settings))
    await emulator.wait_until(
        lambda: len(emulator.calls_to("setMyCommands")) >= before + 3, timeout=15
    )
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_webhook_mode_checks_the_secret(framework: str, emulator: Emulator, tmp_path: Path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    settings = bot_settings(
        framework,
        emulator,
        tmp_path,
        webhook_url=url,
        webhook_secret=SecretStr("s3cret-Token_0123456"),
        webhook_port=port,
    )
    async with running(settings, emulator):
        await emulator.wait_until(lambda: emulator.webhook_url == url)
        ann = emulator.user(1001, "Ann", language_code="en")
        await ann.send("/start")
        assert "Welcome to Northwind Rewards" in (await ann.wait_for_message()).text
        await emulator.wait_until(lambda: bool(emulator.webhook_deliveries))
        assert emulator.webhook_deliveries[-1].ok
        assert emulator.webhook_deliveries[-1].secret_sent
        forged = {
            "update_id": 999_999,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 1001, "type": "private"},
                "from": {"id": 1001, "is_bot": False, "first_name": "Ann"},
                "text": "/balance",
            },
        }
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(url, json=forged, headers=headers) as response:
                    assert response.status == 403
        await asyncio.sleep(0.3)
        assert len(ann.messages) == 1  # the forged /balance was never handled


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_restart_in_the_middle_of_a_redemption(
    framework: str, emulator: Emulator, tmp_path: Path, program
):
    settings = bot_settings(framework, emulator, tmp_path)
    ann = emulator.user(1001, "Ann", language_code="en")
    async with running(settings, emulator):
        await ann.send("/start")
        await ann.wait_for_message()
        database = Database(settings.database_url)
        async with SqlUnitOfWork(database, read_only=True) as uow:
            member = await uow.members.by_telegram_id(1001)
        await adjust_points(
            SqlUnitOfWork(database),
            program,
            member_id=member.id,
            points=100,
            reason="gift",
            actor="test",
            now=NOW,
        )
        await database.dispose()
        assert "+100" in (await ann.wait_for_message(timeout=10)).text  # the member is told
        await ann.send("/rewards")
        await ann.wait_for_message()
        await ann.press("Free coffee · 150")
        await emulator.wait_until(lambda: "Redeem it now?" in ann.messages[-1].text)
    async with running(settings, emulator):  # a new process, the same database
        press = await ann.press("✅ Redeem")
        await press.answered()
        await emulator.wait_until(lambda: "is yours!" in ann.messages[-1].text)
        again = await ann.press_data(press.data, ann.messages[-1])
        assert (await again.answered()).text == "Already done: nothing was spent twice."


async def test_phone_sharing_and_blocking(telegram: Emulator):
    ann = telegram.user(1001, "Ann", language_code="en")
    await ann.send("/start")
    await ann.wait_for_message()
    await ann.share_contact("+1 555 000 1234")
    assert "<code>+15550001234</code>" in (await ann.wait_for_message()).html
    await ann.send_contact("+15550009999", "Someone", user_id=42)
    assert "your own number" in (await ann.wait_for_message()).text
    await ann.block_bot()
    await ann.unblock_bot()
    await ann.send("/balance")
    assert "50 points" in (await ann.wait_for_message()).text
