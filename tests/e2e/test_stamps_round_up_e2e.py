"""Stamp cards and round-up donations end to end on each framework: the real bot against
the emulator, a card filled by a purchase with its voucher in the purchase message and
/stamps drawing the card, and a round-up chosen in /donate giving a purchase's remainder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.emulator import Emulator, SimulatedUser
from domain.earning import PurchaseLine
from domain.program_file import load_program
from domain.services.purchases import MemberRef, PurchaseOutcome, ReceiptIn, record_purchase
from storage.checks import check_invariants
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.e2e.conftest import BOT, TOKEN, bot_on, program_with

STAMPS = """
[[stamps]]
id = "coffee-card"
title = { en = "Coffee card", es = "Tarjeta de café" }
categories = ["coffee"]
count = 3
reward = "coffee"
"""


def program_file(tmp_path: Path) -> Path:
    """The bundled program with a three-stamp coffee card (a free coffee)."""
    return program_with(tmp_path, STAMPS)


@pytest.fixture(params=["aiogram", "ptb"])
async def stamping(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Emulator, str]]:
    """The bot with the coffee card on each framework; its database URL."""
    async with (
        Emulator(token=TOKEN, bot_username=BOT) as emu,
        bot_on(request.param, emu, tmp_path, STAMPS) as settings,
    ):
        yield emu, settings.database_url


async def joined(
    emulator: Emulator, user_id: int, name: str, language: str = "en"
) -> SimulatedUser:
    person = emulator.user(user_id, name, language_code=language)
    await person.send("/start")
    await person.wait_for_message()
    return person


async def bought(
    url: str, tmp_path: Path, person: SimulatedUser, receipt: str, line: PurchaseLine
) -> PurchaseOutcome:
    """A receipt from the till for `person`, recorded in the bot's database; the books checked."""
    database = Database(url)
    try:
        outcome = await record_purchase(
            SqlUnitOfWork(database),
            load_program(program_file(tmp_path)),
            ReceiptIn(receipt, MemberRef("telegram_id", str(person.id)), [line]),
            now=datetime.now(UTC),
        )
        assert await check_invariants(database) == []
    finally:
        await database.dispose()
    return outcome


async def test_a_purchase_that_fills_the_card_gives_the_voucher_at_once(
    stamping: tuple[Emulator, str], tmp_path: Path
):
    emulator, url = stamping
    ann = await joined(emulator, 1001, "Ann")
    await ann.send("/stamps")
    assert "Coffee card: ○○○ 0/3" in (await ann.wait_for_message()).text
    # 4 lattes: 18.00 + 5 = 23 points; 4 stamps fill the card of 3, 1 carries over
    outcome = await bought(
        url, tmp_path, ann, "S-1", PurchaseLine("LATTE", "coffee", 4, Decimal("4.50"))
    )
    [voucher] = outcome.answer["stamps"][0]["vouchers"]
    shown = str(voucher["code"])  # as the API answers it: in groups of four
    told = (await ann.wait_for_message(timeout=10)).text
    assert "Purchase S-1: +23 points" in told
    assert "🎫 Coffee card: ●○○ 1/3" in told
    assert f"🎁 Card full! Free coffee is yours: show this code at the till: {shown}" in told
    await ann.send("/stamps")
    assert "Coffee card: ●○○ 1/3" in (await ann.wait_for_message()).text
    await ann.send("/vouchers")
    assert shown in (await ann.wait_for_message()).text


async def test_a_round_up_chosen_in_donate_gives_the_remainder(
    stamping: tuple[Emulator, str], tmp_path: Path
):
    emulator, url = stamping
    ana = await joined(emulator, 1002, "Ana", "es")
    await ana.send("/donate")
    causes = await ana.wait_for_message()
    await ana.press("Plant trees")
    await emulator.wait_until(lambda: "O redondea" in (ana.messages[-1].text or ""))
    await ana.press("💚 Redondear mis compras")
    await emulator.wait_until(lambda: "Hecho: desde ahora" in (ana.messages[-1].text or ""))
    assert causes.message_id == ana.messages[-1].message_id  # edited in place
    # 32.00 of coffee + 5 for the visit: 37 earned, 30 kept, 7 to the trees
    await bought(url, tmp_path, ana, "S-2", PurchaseLine("BAG", "coffee", 1, Decimal("32.00")))
    told = (await ana.wait_for_message(timeout=10)).text
    assert "Compra S-2: +37 puntos" in told
    assert "Saldo: 80 puntos" in told
    assert "💚 Redondeo para Plant trees: 7 puntos donados, te quedas 30." in told
    await ana.send("/donate")
    again = (await ana.wait_for_message()).text
    assert "Plant trees: 7 de 100.000 puntos" in again
    assert "💚 Redondeas cada compra para Plant trees." in again
