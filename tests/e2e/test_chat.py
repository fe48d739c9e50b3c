"""`loyalty-bot chat`: typed lines reach the bot as text, `:N` presses button N, and what the
bot sends on its own is printed while the person is still at the prompt."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from bot.chat import PERSON_ID, chat
from bot.settings import Settings
from domain.earning import PurchaseLine
from domain.program_file import default_program_path, load_program
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase
from storage.database import Database
from storage.uow import SqlUnitOfWork

Step = Callable[[], str]


def scripted(*steps: str | Step) -> Callable[[str], str]:
    """A `read` for chat: each call types the next line, or runs the next step for it."""
    queue = iter(steps)

    def read(prompt: str) -> str:
        step = next(queue)
        return step if isinstance(step, str) else step()

    return read


async def test_a_scripted_terminal_chat(empty_database_url: str):
    read = scripted(
        "/start",
        "/rewards",
        ":1",
        ":7",
        "/donate",
        ":1",
        "20",
        ":phone +1 555 123 4567",
        "",
        ":quit",
    )
    lines: list[str] = []
    await chat(Settings(database_url=empty_database_url), read, lines.append, name="Ann")
    out = "\n".join(lines)
    assert "Welcome to Northwind Rewards, Ann!" in out
    assert "[:1 Free coffee · 150 ]" in out
    assert "You need 100 more points." in out  # ":1" pressed the first reward
    assert "(there is no button :7 on the newest message with buttons)" in out
    assert "Give 20 points to Plant trees?" in out  # "20" went as text
    assert "+15551234567 will now earn you points" in out
    assert ":1, :2" in out  # the on-screen help says how to press a button


async def test_notifications_are_printed_while_waiting_for_input(empty_database_url: str):
    lines: list[str] = []

    def purchase_then_wait() -> str:
        """At the prompt: the till records a purchase; give the chat time to show it."""
        asyncio.run(_till_purchase(empty_database_url))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any("Purchase R-77" in ln for ln in lines):
            time.sleep(0.1)
        return ":quit"

    await chat(
        Settings(database_url=empty_database_url),
        scripted("/start", purchase_then_wait),
        lines.append,
    )
    assert any("🧾 Purchase R-77: +9 points" in line for line in lines)


async def _till_purchase(url: str) -> None:
    database = Database(url)
    try:
        await record_purchase(
            SqlUnitOfWork(database),
            load_program(default_program_path()),
            ReceiptIn(
                "R-77",
                MemberRef("telegram_id", str(PERSON_ID)),
                [PurchaseLine("LATTE", "coffee", 1, Decimal("4.50"))],
            ),
            now=datetime.now(UTC),
        )
    finally:
        await database.dispose()


async def test_the_chat_ends_with_the_input(empty_database_url: str):
    def read(prompt: str) -> str:
        raise EOFError

    await chat(Settings(database_url=empty_database_url), read, lambda line: None)
