"""`Pace`: this process's share of Telegram's flood limits, taken by every message it sends.

Telegram counts about 30 messages a second for a bot (paid broadcasts count apart, up to
1000) and about one a second in one chat, allowing short bursts; beyond that it answers 429.
Every reply and every outbox send waits here for its turn first: a turn in its chat
(CHAT_RATE a second, CHAT_BURST at once), then a turn of the bot's (RATE a second, BURST at
once; paid sends skip it). Turns go in the order asked, so a burst of replies queues ahead
of the outbox, which stops claiming while this queue is longer than its lookahead.
Each limit is a virtual schedule (GCRA): times are the pace's clock (monotonic seconds).
The workers of `run --workers N` each take 1/N of the bot's rate (their chats' turns stay
their own: a chat's updates may reach any worker, so two can answer in one chat at once).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable

RATE = 30.0  # messages a second for the whole bot
BURST = 5  # of them at once after a quiet moment
CHAT_RATE = 1.0  # messages a second in one chat
CHAT_BURST = 3  # of them at once
FORGET_EVERY = 60.0  # seconds between sweeps of chats back at rest
SHARED_BY = "LOYALTY_BOT_WORKERS"  # how many processes serve the bot (set by `run --workers`)


def processes_sharing() -> int:
    """How many processes share the bot's rate: the workers of `run --workers N`, else 1."""
    return max(1, int(os.environ.get(SHARED_BY) or 1))


class LocalPace:
    """Events `interval` apart on average: one that comes late may go at once with at most
    `catch_up` seconds' worth of events behind it, never a longer burst (GCRA)."""

    def __init__(self, interval: float, catch_up: float) -> None:
        self.interval, self.catch_up = interval, catch_up
        self.due = float("-inf")  # when the next event would be right on pace

    def earliest(self, now: float) -> float:
        """When an event asked for at `now` could go (now or later), nothing taken."""
        return max(self.due - self.catch_up, now)

    def start(self, now: float) -> float:
        """When an event asked for at `now` may go (now or later); the slot is then taken."""
        start = self.earliest(now)
        self.due = max(self.due, start) + self.interval
        return start


class Pace:
    """Turns for messages: per chat, then for the whole bot; one per process and bot."""

    def __init__(
        self,
        rate: float | None = None,
        burst: int | None = None,
        chat_rate: float = CHAT_RATE,
        chat_burst: int = CHAT_BURST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        share = processes_sharing()  # rate and burst unset: this process's share of the bot's
        rate = RATE / share if rate is None else rate
        burst = max(1, BURST // share) if burst is None else burst
        if rate <= 0 or chat_rate <= 0 or burst < 1 or chat_burst < 1:
            raise ValueError("pace: rates must be positive and bursts at least 1")
        self.bulk = LocalPace(1 / rate, (burst - 1) / rate)
        self.chat_interval, self.chat_catch_up = 1 / chat_rate, (chat_burst - 1) / chat_rate
        self.chats: dict[int, LocalPace] = {}
        self.clock, self.sleep = clock, sleep
        self._swept = clock()

    def backlog(self) -> float:
        """Seconds until the bot's next free turn (0 when one is free now)."""
        now = self.clock()
        return self.bulk.earliest(now) - now

    async def turn(self, chat_id: int, paid: bool, deadline: float) -> float | None:
        """Wait for a message's turn; the seconds waited, or None (not sent) when its turn
        would come after `deadline` (pace clock)."""
        asked = now = self.clock()
        chat = self._chat(chat_id, now)
        if chat.earliest(now) > deadline:
            return None
        await self._until(chat.start(now))
        if not paid:
            now = self.clock()
            if self.bulk.earliest(now) > deadline:
                return None
            await self._until(self.bulk.start(now))
        return self.clock() - asked

    def _chat(self, chat_id: int, now: float) -> LocalPace:
        if now - self._swept >= FORGET_EVERY:  # a chat at rest is the same as a new one
            self._swept = now
            self.chats = {chat: pace for chat, pace in self.chats.items() if pace.due > now}
        pace = self.chats.get(chat_id)
        if pace is None:
            pace = self.chats[chat_id] = LocalPace(self.chat_interval, self.chat_catch_up)
        return pace

    async def _until(self, moment: float) -> None:
        wait = moment - self.clock()
        if wait > 0:
            await self.sleep(wait)
