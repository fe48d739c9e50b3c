"""A challenge completed end to end on each framework: the real bot against the emulator,
/challenges with its Join button (a second tap answered politely), the halfway message
after the first receipt, the completion message with the bonus and the voucher after the
second, and /challenges showing it done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.emulator import Emulator, SimulatedUser
from domain.earning import PurchaseLine
from domain.program_file import load_program
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase
from storage.checks import check_invariants
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.e2e.conftest import BOT, TOKEN, bot_on, program_with

CHALLENGE = """
[[challenges]]
id = "pair"
title = { en = "A pair of visits", es = "Dos visitas" }
kind = "purchases"
count = 2
days = 30
opt_in = true
bonus = 50
reward = "coffee"
"""


def program_file(tmp_path: Path) -> Path:
    """The bundled program with the challenge above."""
    return program_with(tmp_path, CHALLENGE)


@pytest.fixture(params=["aiogram", "ptb"])
async def challenged(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Emulator, str]]:
    """The bot with the challenge on each framework; its database URL."""
    async with (
        Emulator(token=TOKEN, bot_username=BOT) as emu,
        bot_on(request.param, emu, tmp_path, CHALLENGE) as settings,
    ):
        yield emu, settings.database_url


async def buy(url: str, tmp_path: Path, person: SimulatedUser, receipt: str) -> None:
    """A $10 receipt for `person` from the till (10 + 5 per visit = 15 points)."""
    database = Database(url)
    try:
        await record_purchase(
            SqlUnitOfWork(database),
            load_program(program_file(tmp_path)),
            ReceiptIn(
                receipt,
                MemberRef("telegram_id", str(person.id)),
                [PurchaseLine("TEE", "apparel", 1, Decimal("10"))],
            ),
            now=datetime.now(UTC),
        )
        assert await check_invariants(database) == []
    finally:
        await database.dispose()


async def test_a_challenge_joined_and_completed(challenged: tuple[Emulator, str], tmp_path: Path):
    emulator, url = challenged
    ann = emulator.user(1001, "Ann", language_code="en")
    await ann.send("/start")
    await ann.wait_for_message()
    await ann.send("/challenges")
    board = await ann.wait_for_message()
    assert "A pair of visits\nMake 2 purchases · reward: +50 points and Free coffee" in board.text
    assert "30 days from when you join: tap Join to take part." in board.text
    join = await ann.press("✅ Join “A pair of visits”")
    assert (await join.answered()).text == "🎯 You're in: “A pair of visits”. Good luck!"
    await emulator.wait_until(lambda: "▱▱▱▱▱▱▱▱▱▱ 0 of 2" in (board.text or ""))
    assert "⏳ 30 days left" in board.text
    assert board.buttons == []
    again = await ann.press_data(join.data, board)  # the same button, tapped again
    assert (
        await again.answered()
    ).text == "You have already joined “A pair of visits”. Keep going!"

    await buy(url, tmp_path, ann, "C-1")
    assert "+15" in (await ann.wait_for_message(timeout=10)).text  # the purchase message
    halfway = await ann.wait_for_message(timeout=10)
    assert halfway.text.startswith("💪 Halfway there in A pair of visits: 1 of 2.")
    await buy(url, tmp_path, ann, "C-2")
    assert "+15" in (await ann.wait_for_message(timeout=10)).text
    done = await ann.wait_for_message(timeout=10)
    # 50 signup + 2 receipts of 15 + the bonus of 50
    assert done.text.startswith(
        "🏆 Challenge complete: A pair of visits! +50 points. Balance: 130 points.\n"
        "🎁 Your reward: Free coffee. Show this code at the till: "
    )
    await ann.send("/challenges")
    assert "A pair of visits ✅" in (await ann.wait_for_message()).text
