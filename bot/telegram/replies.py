"""Carrying out the core's actions through either framework's bot, the same way.

Each adapter implements `BotApi` (send, edit, answer, menu, and the process's `Pace`) and
turns its framework's errors into the exceptions below, which the outbox sender
(`bot.delivery`) reads too. `perform` carries out the actions of one reply in order:
- a message (send or edit) first waits for its turn within Telegram's limits (`bot.telegram.pace`);
- a 429 waits `retry_after` and tries again, as often as needed: a reply is never dropped;
- network trouble (`TelegramUnreachable`) is retried after 1, 2, 4 ... 30 s;
- a 403 (the person blocked the bot) ends the reply, and `perform` answers False;
- a 400 is not retried: logged with the chat and Telegram's reason, and the next action goes
  on; an edit to what the message already shows is no error at all;
- a reply that has waited PATIENCE seconds in all (turns, 429s, network) is given up and
  logged as an error; one that waited more than LONG_WAIT is logged once as a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from bot.conversation.actions import Action, Answer, Edit, Menu, Send
from bot.telegram.pace import Pace

log = logging.getLogger(__name__)

PATIENCE = 600.0  # seconds a reply may wait in all before it is given up
LONG_WAIT = 5.0  # a reply that waited longer is logged once
BACKOFF_FIRST, BACKOFF_CAP = 1.0, 30.0  # seconds between tries while Telegram is unreachable


class TelegramRefused(Exception):
    """The Bot API refused a call for good (400): retrying the same call cannot help."""


class MessageNotModified(TelegramRefused):
    """An edit to exactly what the message already shows: harmless."""


class RecipientBlocked(Exception):
    """403: the person blocked the bot."""


class TelegramUnreachable(Exception):
    """The Bot API could not be reached (network trouble): the same call may work later."""


class TokenRefused(Exception):
    """401 or 404 on every call: Telegram does not know the bot token."""


class RetryLater(Exception):
    """429: wait `seconds`, then the call may be retried."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class GaveUp(Exception):
    """A reply waited its whole PATIENCE: given up."""


def bad_request(description: str) -> TelegramRefused:
    """A 400 as the exception `perform` handles: an edit that changed nothing, or a refusal."""
    if "message is not modified" in description.lower():
        return MessageNotModified(description)
    return TelegramRefused(description)


class BotApi(Protocol):
    """The calls replies need, in a framework's terms, and the pace every message keeps."""

    pace: Pace

    async def send(self, action: Send) -> int:
        """Send a message; Telegram's id for it."""

    async def edit(self, action: Edit) -> None: ...
    async def answer(self, action: Answer) -> None: ...
    async def menu(self, action: Menu) -> None: ...


class Patience:
    """How long one reply has waited, and until when it may."""

    def __init__(self, pace: Pace) -> None:
        self.pace = pace
        self.since = pace.clock()
        self.deadline = self.since + PATIENCE
        self.waited = 0.0

    async def turn(self, action: Send | Edit) -> None:
        """Wait for the message's turn within Telegram's limits."""
        paid = isinstance(action, Send) and action.paid
        waited = await self.pace.turn(action.chat_id, paid, self.deadline)
        if waited is None:
            raise GaveUp("its turn would come too late")
        self.waited += waited

    async def sleep(self, seconds: float, reason: str) -> None:
        """Wait `seconds` (after a 429 or a network error), or give up if that is too long."""
        if self.pace.clock() + seconds > self.deadline:
            raise GaveUp(reason)
        await self.pace.sleep(seconds)
        self.waited += seconds


async def perform(api: BotApi, actions: Sequence[Action]) -> bool:
    """Carry out actions in order, each in its turn; False when the person has blocked the bot."""
    patience = Patience(api.pace)
    chat = next((a.chat_id for a in actions if not isinstance(a, Answer)), None)
    try:
        for action in actions:
            try:
                await _until_done(api, action, patience)
            except MessageNotModified:
                continue
            except RecipientBlocked:
                return False
            except TelegramRefused as refused:
                log.warning(
                    "Telegram refused a %s to chat %s: %s", type(action).__name__, chat, refused
                )
    except GaveUp as late:
        log.error(
            "reply to chat %s given up after waiting %.0f s: %s",
            chat,
            patience.pace.clock() - patience.since,
            late,
        )
        return True
    if patience.waited > LONG_WAIT:
        log.warning(
            "reply to chat %s went out after waiting %.1f s (Telegram's limits)",
            chat,
            patience.waited,
        )
    return True


async def _until_done(api: BotApi, action: Action, patience: Patience) -> None:
    """One action, tried until Telegram takes or refuses it (or patience runs out)."""
    failures = 0
    while True:
        if isinstance(action, Send | Edit):
            await patience.turn(action)
        try:
            await _call(api, action)
            return
        except RetryLater as wait:
            await patience.sleep(wait.seconds, f"429: {wait}")
        except TelegramUnreachable as trouble:
            failures += 1
            pause = min(BACKOFF_CAP, BACKOFF_FIRST * 2.0 ** (failures - 1))
            await patience.sleep(pause, f"Telegram unreachable: {trouble}")


async def _call(api: BotApi, action: Action) -> None:
    if isinstance(action, Send):
        await api.send(action)
    elif isinstance(action, Edit):
        await api.edit(action)
    elif isinstance(action, Answer):
        await api.answer(action)
    else:
        await api.menu(action)
