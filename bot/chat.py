"""`loyalty-bot chat`: talk to the real bot as a customer, in the terminal, without Telegram.

Type a message and press Enter (a number is sent as text, like any message); `:1`, `:2`...
press the buttons of the newest message that has some; `:phone +15550001234` shares a
phone number; `:quit` (or Ctrl+D) leaves. What the bot sends on its own (a purchase from
the till, a broadcast) is printed as it arrives. The bot runs on the configured database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress

from bot.demo import Narrator, Print, emulated_bot
from bot.emulator import Emulator, SentMessage, SimulatedUser
from bot.settings import Settings
from messages.render import render_text

QUIET_SECONDS = 0.6
LONGEST_WAIT = 5.0
PERSON_ID = 3001
PRESS = ":"  # ":2" presses button 2
PHONE = ":phone "
QUIT = frozenset({":quit", ":q"})

Read = Callable[[str], str]


class ChatView:
    """Prints what is new or edited in the chat since the last look."""

    def __init__(self, emulator: Emulator, person: SimulatedUser, narrator: Narrator) -> None:
        self.emulator, self.person, self.narrator = emulator, person, narrator
        self.seen: dict[int, int] = {}

    def _changes(self) -> list[SentMessage]:
        return [m for m in self.person.messages if self.seen.get(m.message_id) != len(m.edits)]

    async def settle(self) -> None:
        """Wait until the bot has been quiet a moment, then print what changed."""
        waited, last = 0.0, -1
        while waited < LONGEST_WAIT:
            count = len(self._changes()) + sum(len(m.edits) for m in self.person.messages)
            if count == last and waited >= QUIET_SECONDS:
                break
            last = count
            await asyncio.sleep(0.2)
            waited += 0.2
        for message in self._changes():
            self.seen[message.message_id] = len(message.edits)
            self.narrator.show(message, numbered=True)

    async def watch(self) -> None:
        """Print messages as they arrive, also while the person is still typing."""
        while True:
            await self.settle()

    def button(self, number: int) -> tuple[SentMessage, int] | None:
        """The message and index of the `number`th button of the newest message with buttons."""
        for message in reversed(self.person.messages):
            count = sum(len(row) for row in message.buttons)
            if count:
                return (message, number - 1) if 1 <= number <= count else None
        return None


async def chat(
    settings: Settings, read: Read, out: Print, admin: bool = False, name: str = "You"
) -> None:
    """Run the bot on the emulator and relay the terminal to it until `:quit` or end of input.

    The person typing is called `name` (their Telegram first name); with `admin`, they are
    one of the merchant's admins.
    """
    admins = frozenset({PERSON_ID}) if admin else frozenset()
    async with emulated_bot(
        settings.database_url, settings.loyalty_program, settings.bot_framework, admins
    ) as (emulator, _):
        person = emulator.user(PERSON_ID, name, language_code="en")
        view = ChatView(emulator, person, Narrator(emulator, out))
        out(render_text("chat_intro", admin=admin))
        watcher = asyncio.create_task(view.watch())
        try:
            await _converse(read, person, view, out)
        finally:
            watcher.cancel()
            with suppress(asyncio.CancelledError):
                await watcher


async def _converse(read: Read, person: SimulatedUser, view: ChatView, out: Print) -> None:
    """Relay typed lines until `:quit` or end of input, waiting for each answer."""
    while True:
        try:
            line = (await asyncio.to_thread(read, "you> ")).strip()
        except EOFError:
            return
        if line in QUIT:
            return
        if await _relay(line, person, view, out):
            await view.settle()


async def _relay(line: str, person: SimulatedUser, view: ChatView, out: Print) -> bool:
    """Send one typed line to the bot; False when nothing was sent."""
    if not line:
        return False
    if line.startswith(PHONE):
        await person.share_contact(line.removeprefix(PHONE).strip())
    elif line.startswith(PRESS) and line[1:].isdecimal():
        target = view.button(int(line[1:]))
        if target is None:
            out(render_text("chat_no_button", number=line[1:]))
            return False
        await person.press(*target)
    else:
        await person.send(line)
    return True
