"""A satisfaction survey end to end on each framework: a purchase, the question from the
outbox, two taps that edit it, a second tap refused politely, the bonus once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import run_bot
from bot.emulator import Emulator
from domain.earning import PurchaseLine
from domain.program_file import default_program_path, load_program
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.e2e.conftest import bot_settings, started

SURVEY = """
[[surveys]]
id = "after_purchase"
trigger = "purchase"
sample = 1
questions = ["csat", "nps"]
reward_points = 25
"""


def program_file(tmp_path: Path) -> Path:
    """The bundled program with a survey after every purchase and quiet hours hours away
    (a run at any time of day asks at once)."""
    text = default_program_path().read_text()
    local = datetime.now(UTC).astimezone(ZoneInfo("America/New_York"))
    quiet = [(local + timedelta(hours=h)).strftime("%H:00") for h in (6, 7)]
    text = text.replace(
        'quiet_hours = ["21:00", "09:00"]', f'quiet_hours = ["{quiet[0]}", "{quiet[1]}"]'
    )
    path = tmp_path / "program.toml"
    path.write_text(text + SURVEY)
    return path


@pytest.fixture(params=["aiogram", "ptb"])
async def surveyed(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Emulator, str]]:
    """The bot with a surveying program on each framework; its database URL."""
    async with Emulator(token="123456:E2E-TOKEN", bot_username="northwind_loyalty_bot") as emu:
        settings = bot_settings(
            request.param, emu, tmp_path, loyalty_program=program_file(tmp_path)
        )
        task = asyncio.create_task(run_bot(settings))
        await started(emu)
        yield emu, settings.database_url
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def test_a_survey_is_asked_and_answered_in_chat(
    surveyed: tuple[Emulator, str], tmp_path: Path
):
    emulator, url = surveyed
    ann = emulator.user(1001, "Ann", language_code="en")
    await ann.send("/start")
    await ann.wait_for_message()
    database = Database(url)
    program = load_program(program_file(tmp_path))
    await record_purchase(
        SqlUnitOfWork(database),
        program,
        ReceiptIn(
            "T-1",
            MemberRef("telegram_id", str(ann.id)),
            [PurchaseLine("LATTE", "coffee", 1, Decimal("4.50"))],
        ),
        now=datetime.now(UTC),
    )
    await database.dispose()
    assert "Purchase T-1" in (await ann.wait_for_message(timeout=10)).text
    question = await ann.wait_for_message(timeout=10)
    assert "A quick question (1 of 2)" in question.text
    assert [b.text for b in question.buttons[0]] == ["1", "2", "3", "4", "5"]
    await ann.press("4")
    await emulator.wait_until(lambda: "(2 of 2)" in (question.text or ""), timeout=10)
    nine = next(b.callback_data for row in question.buttons for b in row if b.text == "9")
    assert nine is not None
    await ann.press("9")
    await emulator.wait_until(
        lambda: "Thank you for your answers" in (question.text or ""), timeout=10
    )
    assert "+25 points for your time. Balance: 84 points." in question.text
    again = await ann.press_data(nine, question)
    assert (await again.answered()).text == (
        "You already answered this question. Thank you, your first answer counts!"
    )
    await ann.send("/balance")
    assert "84 points" in (await ann.wait_for_message()).text
