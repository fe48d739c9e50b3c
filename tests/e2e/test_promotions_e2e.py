"""A promotion end to end on each framework: the real bot against the emulator, a receipt
recorded while a promotion runs, the member's purchase message with the promotion's line
(in their language), /offers and /history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.emulator import Emulator, SimulatedUser
from domain.earning import PurchaseLine
from domain.program_file import load_program
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.e2e.conftest import BOT, TOKEN, bot_on, program_with

ZONE = ZoneInfo("America/New_York")  # the bundled program's
COFFEE = PurchaseLine("LATTE", "coffee", 2, Decimal("10.00"))  # 20 spend points


def promotion() -> str:
    """A promotion running from yesterday to the day after tomorrow (program time): coffee
    x2 and 10 points a receipt."""
    today = datetime.now(ZONE).date()
    return f"""
[[promotions]]
id = "coffee-days"
title = {{ en = "Coffee days", es = "Días del café" }}
starts = {today - timedelta(days=1)}
ends = {today + timedelta(days=2)}
categories = ["coffee"]
multiplier = 2
bonus = 10
"""


def program_file(tmp_path: Path) -> Path:
    """The bundled program with the promotion."""
    return program_with(tmp_path, promotion())


@pytest.fixture(params=["aiogram", "ptb"])
async def promoting(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Emulator]:
    """The bot with the promotion, on each framework."""
    async with (
        Emulator(token=TOKEN, bot_username=BOT) as emu,
        bot_on(request.param, emu, tmp_path, promotion()),
    ):
        yield emu


async def joined(emulator: Emulator, user_id: int, name: str, language: str) -> SimulatedUser:
    person = emulator.user(user_id, name, language_code=language)
    await person.send("/start")
    await person.wait_for_message()
    return person


async def bought(tmp_path: Path, person: SimulatedUser, receipt_id: str) -> dict[str, object]:
    """Record a coffee receipt for `person` now, as a till would; the answer."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/e2e.db")
    try:
        outcome = await record_purchase(
            SqlUnitOfWork(database),
            load_program(program_file(tmp_path)),
            ReceiptIn(receipt_id, MemberRef("telegram_id", str(person.id)), [COFFEE]),
            now=datetime.now(UTC),
        )
    finally:
        await database.dispose()
    return outcome.answer


async def test_a_promotion_is_a_line_of_the_purchase_message(promoting: Emulator, tmp_path: Path):
    ann = await joined(promoting, 1001, "Ann", "en")
    ana = await joined(promoting, 1002, "Ana", "es")
    answer = await bought(tmp_path, ann, "P-1")
    # 20 spend + 5 visit, and the promotion: 20 more on the coffee and its 10 = 55
    assert answer["points_awarded"] == 55
    assert {"reason": "promotion", "detail": "coffee-days", "points": "30.00"} in answer[
        "breakdown"
    ]
    earned = await ann.wait_for_message(timeout=10)
    assert earned.text == (
        "🧾 Purchase P-1: +55 points\n"
        "• coffee: 20\n"
        "• visit: 5\n"
        "• 🎉 Coffee days: 30\n"
        "Balance: 105 points · Tier: Member"
    )
    await bought(tmp_path, ana, "P-2")
    spanish = await ana.wait_for_message(timeout=10)
    assert "• 🎉 Días del café: 30\n" in spanish.text
    await ann.send("/offers")
    offers = await ann.wait_for_message()
    assert offers.text.startswith(
        "🎉 Offers\n\nOn now\n• Coffee days: ×2 points on coffee and +10 points a purchase. Until "
    )
    await ann.send("/history")
    history = await ann.wait_for_message()
    assert "Promotion (Coffee days): +30" in history.text
    assert "Purchase: +25" in history.text
