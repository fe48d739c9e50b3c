"""The rate limiter: a global pace and at least `spacing` seconds between sends to one chat.

Both are kept as "free at" times (a virtual schedule, as in GCRA): reserving n global slots
moves the bot's free-at time on by n / rate, from now at the earliest; a chat's free-at
time moves to one send time + spacing. A `SlotStore` keeps these times: in memory for one
process, in the database (`storage.repositories.pacing`) when processes share the work.
Times are seconds since the epoch, so processes on one host agree on them.

A send never goes before its slot. A process that wakes late (a busy CPU, a garbage
collection) makes up at most `catch_up` seconds of sends in one burst (`LocalPace` in
`bot.telegram.pace`), a small part of the second's worth that the emulator's bulk buckets
hold (Telegram publishes no exact burst: it counts about 30 a second, 1000 paid); time lost
beyond that is not made up. Each send then takes its turn in the process's `Pace`, which
replies share (see `bot.telegram.pace`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

EPSILON = 1e-6  # float rounding must not refuse a send exactly `spacing` after the last


class SlotStore(Protocol):
    """Where the free-at times live; every call is atomic."""

    async def reserve(self, span: float, now: float) -> float:
        """Take `span` seconds of the global schedule; when they start (never before now)."""

    async def claim_chats(self, times: Mapping[int, float], spacing: float) -> set[int]:
        """The chats free at their given send time; those are then busy until time + spacing."""

    async def hold(self, until: float) -> None:
        """Send nothing before `until` (a 429's retry_after)."""

    async def free_at(self) -> float:
        """When the global schedule is next free (after any hold)."""

    async def held_until(self) -> float:
        """Until when a 429 holds every send (0 when none ever did)."""

    async def forget_before(self, moment: float) -> None:
        """Drop chats free since before `moment` (they would be granted anyway)."""


class MemorySlots:
    """A `SlotStore` for one process."""

    def __init__(self) -> None:
        self.global_free = 0.0
        self.held = 0.0
        self.chats: dict[int, float] = {}

    async def reserve(self, span: float, now: float) -> float:
        start = max(self.global_free, now)
        self.global_free = start + span
        return start

    async def claim_chats(self, times: Mapping[int, float], spacing: float) -> set[int]:
        granted = {chat for chat, at in times.items() if self.chats.get(chat, 0.0) <= at + EPSILON}
        self.chats.update({chat: times[chat] + spacing for chat in granted})
        return granted

    async def hold(self, until: float) -> None:
        self.global_free = max(self.global_free, until)
        self.held = max(self.held, until)

    async def free_at(self) -> float:
        return self.global_free

    async def held_until(self) -> float:
        return self.held

    async def forget_before(self, moment: float) -> None:
        self.chats = {chat: at for chat, at in self.chats.items() if at >= moment}


class RateLimiter:
    """Send times for a batch of messages within the global rate and per-chat spacing."""

    def __init__(self, store: SlotStore, rate: float, spacing: float = 1.0) -> None:
        if rate <= 0 or spacing < 0:
            raise ValueError(f"need rate > 0 and spacing >= 0, got {rate}, {spacing}")
        self.store = store
        self.interval = 1 / rate
        self.spacing = spacing

    async def schedule(self, chats: Sequence[int], now: float) -> list[float | None]:
        """One send time per message, in order; None for a chat already busy then (retry
        later): a chat appearing twice in one batch gets only its first message slotted."""
        if not chats:
            return []
        start = await self.store.reserve(len(chats) * self.interval, now)
        times = [start + i * self.interval for i in range(len(chats))]
        first: dict[int, float] = {}
        for chat, at in zip(chats, times, strict=True):
            first.setdefault(chat, at)
        granted = await self.store.claim_chats(first, self.spacing)
        return [
            at if chat in granted and first[chat] == at else None
            for chat, at in zip(chats, times, strict=True)
        ]

    async def pause(self, until: float) -> None:
        """Hold every send (in every process sharing the store) until `until`."""
        await self.store.hold(until)

    async def free_at(self) -> float:
        """When the next global slot is."""
        return await self.store.free_at()

    async def held_until(self) -> float:
        """Until when a 429 (here or in another process) holds every send."""
        return await self.store.held_until()
