"""The PTB adapter keeps at most REQUESTS_AT_ONCE Bot API calls in flight; the rest wait."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from bot.conversation.actions import Send
from bot.telegram.ptb_app import REQUESTS_AT_ONCE, PtbReplies


class SlowBot:
    """A Bot whose sendMessage answers only when released, counting the calls in flight."""

    def __init__(self) -> None:
        self.in_flight = self.most = 0
        self.release = asyncio.Event()

    async def send_message(self, chat_id: int, text: str, **_: Any) -> SimpleNamespace:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await self.release.wait()
        self.in_flight -= 1
        return SimpleNamespace(message_id=chat_id)


async def test_calls_past_the_limit_wait_for_a_turn() -> None:
    bot = SlowBot()
    replies = PtbReplies(bot)  # type: ignore[arg-type]
    sends = [asyncio.create_task(replies.send(Send(chat, "hi"))) for chat in range(3 * 8)]
    for _ in range(10):
        await asyncio.sleep(0)
    assert bot.most == bot.in_flight == REQUESTS_AT_ONCE
    bot.release.set()
    assert await asyncio.gather(*sends) == list(range(3 * 8))
    assert bot.most == REQUESTS_AT_ONCE
