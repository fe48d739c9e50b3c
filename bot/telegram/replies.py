"""Carrying out the core's actions through whichever framework's bot, the same way.

Each adapter implements `BotApi` (three calls) and maps its framework's errors to the ones
below; `perform` decides what each outcome means.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from bot.conversation.actions import Action, Answer, Edit, Menu, Send

log = logging.getLogger(__name__)


class TelegramRefused(Exception):
    """The Bot API refused a call for good (400): retrying the same call cannot help."""


class MessageNotModified(TelegramRefused):
    """An edit to exactly what the message already shows: harmless."""


class RecipientBlocked(Exception):
    """403: the person blocked the bot."""


class TelegramUnreachable(Exception):
    """The Bot API could not be reached (network trouble): the same call may work later."""


class TokenRefused(Exception):
    """401 (or 404 on getMe): Telegram does not know the bot token."""


class RetryLater(Exception):
    """429: wait `seconds`, then the call may be retried."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


def bad_request(description: str) -> TelegramRefused:
    """A 400 as the exception `perform` handles: an edit that changed nothing, or a refusal."""
    if "message is not modified" in description.lower():
        return MessageNotModified(description)
    return TelegramRefused(description)


class BotApi(Protocol):
    """The calls replies need, in a framework's terms."""

    async def send(self, action: Send) -> int:
        """Send a message; Telegram's id for it."""
    async def edit(self, action: Edit) -> None: ...
    async def answer(self, action: Answer) -> None: ...
    async def menu(self, action: Menu) -> None: ...


async def perform(api: BotApi, actions: Sequence[Action], *, retries: int = 1) -> bool:
    """Carry out actions in order; False when the person has blocked the bot."""
    for action in actions:
        try:
            await _once_more_after_429(api, action, retries)
        except MessageNotModified:
            continue
        except RecipientBlocked:
            return False
        except (TelegramRefused, TelegramUnreachable):
            log.exception("could not carry out %s", type(action).__name__)
    return True


async def _once_more_after_429(api: BotApi, action: Action, retries: int) -> None:
    for attempt in range(retries + 1):
        try:
            await _call(api, action)
            return
        except RetryLater as wait:
            if attempt == retries:
                raise TelegramRefused(str(wait)) from wait
            await asyncio.sleep(wait.seconds)


async def _call(api: BotApi, action: Action) -> None:
    if isinstance(action, Send):
        await api.send(action)
    elif isinstance(action, Edit):
        await api.edit(action)
    elif isinstance(action, Answer):
        await api.answer(action)
    else:
        await api.menu(action)
