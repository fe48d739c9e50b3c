"""`loyalty-bot demo`: the real bot against the local emulator, playing a short story.

Offline and on a throwaway SQLite file: a few customers join (one through a friend's
link), purchases come in from the till, someone reaches a tier, redeems a reward and
donates. The chat is printed as a transcript with the buttons shown.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

from bot.app import program_of, run_bot
from bot.emulator import Emulator, SentMessage, SimulatedUser
from bot.settings import Settings
from domain.earning import PurchaseLine
from domain.program import Program
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase
from messages.render import render_text
from storage.database import Database
from storage.uow import SqlUnitOfWork

OWNER = 2000  # the demo's admin, as ADMIN_IDS would name them
TOKEN = "100000:DEMO-TOKEN"
BOT_USERNAME = "northwind_loyalty_bot"
PATIENCE = 30.0  # seconds the demo waits for each answer: the bot paces replies to about one a
# second per chat, and a busy machine may be several times slower than that
Print = Callable[[str], None]


class DemoStalled(Exception):
    """The bot did not answer a step of the demo within PATIENCE seconds."""


class Narrator:
    """Drives simulated people and prints what they do and what the bot answers."""

    def __init__(self, emulator: Emulator, out: Print) -> None:
        self.emulator, self.out = emulator, out

    async def says(self, person: SimulatedUser, name: str, text: str) -> SentMessage:
        """`name` sends `text`; the bot's reply is printed and returned."""
        self.out(render_text("demo_says", name=name, text=text))
        await person.send(text)
        return await self.reply(person)

    async def taps(self, person: SimulatedUser, name: str, button: str, expect: str) -> SentMessage:
        """`name` taps an inline button; the edited message is printed once it shows `expect`."""
        self.out(render_text("demo_taps", name=name, button=button))
        await person.press(button)
        await self.emulator.wait_until(
            lambda: (
                expect in (person.messages[-1].text or "")
                or expect in (person.messages[-1].caption or "")
            ),
            timeout=PATIENCE,
        )
        return self.show(person.messages[-1])

    async def notified(self, person: SimulatedUser, name: str) -> SentMessage:
        """A message the bot sends `name` on its own (a notification), printed."""
        self.note("demo_notified", name=name)
        return await self.reply(person)

    async def reply(self, person: SimulatedUser) -> SentMessage:
        """The bot's next message to `person`, printed."""
        return self.show(await person.wait_for_message(timeout=PATIENCE))

    def show(self, message: SentMessage, numbered: bool = False) -> SentMessage:
        """Print one bot message with its buttons (numbered, to press by number) and keyboard."""
        self.out(
            render_text(
                "demo_bot",
                text=message.text or message.caption or "",
                photo=message.photo,
                buttons=[[b.text for b in row] for row in message.buttons],
                numbered=numbered,
                keyboard=[[b.text for b in row] for row in message.reply_keyboard or []],
            )
        )
        return message

    def note(self, template: str, **context: object) -> None:
        """A line of narration."""
        self.out(render_text(template, **context))


@asynccontextmanager
async def emulated_bot(
    database_url: str,
    program: Path | None = None,
    framework: Literal["aiogram", "ptb"] = "aiogram",
    admins: frozenset[int] = frozenset(),
) -> AsyncIterator[tuple[Emulator, Settings]]:
    """The emulator and the real bot (long polling, as `run` does) on `database_url`; its
    settings are these alone, none from the environment or `.env` (a production WEBHOOK_URL
    or WEB_URL there would point away from the emulator)."""
    logging.getLogger("aiogram").setLevel(logging.CRITICAL)  # its shutdown chatter is noise here
    async with Emulator(token=TOKEN, bot_username=BOT_USERNAME) as emulator:
        settings = Settings(
            database_url=database_url,
            loyalty_program=program,
            bot_token=SecretStr(TOKEN),
            telegram_api_base=emulator.base_url,
            bot_framework=framework,
            api_port=0,
            scheduler=False,
            admin_ids=",".join(str(admin) for admin in sorted(admins)),
        )
        task = asyncio.create_task(run_bot(settings))
        try:
            await emulator.wait_until(
                lambda: len(emulator.calls_to("setMyCommands")) >= 3, timeout=PATIENCE
            )
            yield emulator, settings
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


async def till(
    settings: Settings, program: Program, code: str, receipt: str, *lines: PurchaseLine
) -> int:
    """A purchase from the till, through the same service as the HTTP API; its points."""
    database = Database(settings.database_url)
    try:
        outcome = await record_purchase(
            SqlUnitOfWork(database),
            program,
            ReceiptIn(receipt, MemberRef("member_code", code), list(lines)),
            now=datetime.now(UTC),
        )
    finally:
        await database.dispose()
    return outcome.points


async def story(out: Print) -> None:
    """Ann joins, Bea joins through Ann's link, both shop, Ann climbs, redeems and donates;
    then Max, the owner, broadcasts a gift to both. DemoStalled if an answer never comes."""
    try:
        await _play(out)
    except TimeoutError:  # an answer the narrator waited for, not the database
        raise DemoStalled() from None


async def _play(out: Print) -> None:
    """The story itself."""
    with tempfile.TemporaryDirectory(prefix="loyalty-demo-") as workdir:
        async with emulated_bot(
            f"sqlite+aiosqlite:///{workdir}/demo.db", admins=frozenset({OWNER})
        ) as (emulator, settings):
            program = program_of(settings)
            tell = Narrator(emulator, out)
            ann = emulator.user(2001, "Ann", language_code="en")
            bea = emulator.user(2002, "Bea", language_code="es")
            tell.note("demo_title", program=program)
            await tell.says(ann, "Ann", "/start")
            card = await tell.says(ann, "Ann", "💳 Card")
            code = (card.caption or "").split("Member code: ")[1].split()[0].replace("-", "")
            invite = await tell.says(ann, "Ann", "/invite")
            link = next(w for w in (invite.text or "").split() if w.startswith("https://t.me/"))
            await tell.says(bea, "Bea", f"/start {link.split('?start=')[1]}")
            await tell.notified(ann, "Ann")
            bea_card = await tell.says(bea, "Bea", "/card")
            bea_code = (bea_card.caption or "").split(": ")[1].split()[0].replace("-", "")
            line = PurchaseLine
            points = await till(
                settings, program, bea_code, "R-1001", line("LATTE", "coffee", 2, Decimal("4.50"))
            )
            tell.note("demo_till", name="Bea", receipt="R-1001", points=points)
            await tell.notified(bea, "Bea")
            await tell.notified(ann, "Ann")
            points = await till(
                settings,
                program,
                code,
                "R-1002",
                line("TRAIL-RUNNER", "shoes", 2, Decimal("249.00")),
                line("BEANS-1KG", "coffee", 1, Decimal("18.00")),
            )
            tell.note("demo_till", name="Ann", receipt="R-1002", points=points)
            await tell.notified(ann, "Ann")
            await tell.notified(ann, "Ann")
            await tell.says(ann, "Ann", "⭐ Points")
            await tell.says(ann, "Ann", "🎁 Rewards")
            await tell.taps(ann, "Ann", "Free coffee · 150", "Redeem it now?")
            await tell.taps(ann, "Ann", "✅ Redeem", "is yours!")
            await tell.says(ann, "Ann", "🌱 Donate")
            await tell.taps(ann, "Ann", "Plant trees", "How many")
            await tell.taps(ann, "Ann", "200", "Give")
            await tell.taps(ann, "Ann", "✅ Donate", "Thank you")
            await tell.says(ann, "Ann", "/history")
            await broadcast(tell, emulator.user(OWNER, "Max", language_code="en"), ann, bea)
            tell.note("demo_end")


async def broadcast(
    tell: Narrator, owner: SimulatedUser, ann: SimulatedUser, bea: SimulatedUser
) -> None:
    """The owner broadcasts bonus points to everyone from chat; Ann claims hers."""
    tell.note("demo_broadcast", name="Max")
    await tell.says(owner, "Max", "/broadcast")
    await tell.says(owner, "Max", "☕ Thank you for coming by this week!")
    await tell.says(owner, "Max", "Claim 50 points | 50")
    await tell.taps(owner, "Max", "👁 Preview", "Send it to")
    await tell.taps(owner, "Max", "📣 Send now", "Broadcast #1")
    await tell.notified(ann, "Ann")
    await tell.notified(bea, "Bea")
    await tell.taps(ann, "Ann", "Claim 50 points", "+50")
    await tell.emulator.wait_until(lambda: _status(owner) is not None, timeout=PATIENCE)
    status = _status(owner)
    assert status is not None  # waited for above
    tell.note("demo_status", name="Max")
    tell.show(status)


def _status(owner: SimulatedUser) -> SentMessage | None:
    """The broadcast's status message once it says both were sent (wherever it is in the chat:
    a later message may follow it on a slow machine)."""
    return next(
        (message for message in reversed(owner.messages) if "Sent 2 / 2" in (message.text or "")),
        None,
    )
