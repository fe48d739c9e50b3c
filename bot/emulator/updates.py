"""The bot's pending updates: numbered, filtered by allowed_updates, fetched by long polling
(getUpdates) or popped by the webhook sender."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Iterable
from typing import Any

from bot.emulator.errors import ApiError

__all__ = ["OPT_IN_TYPES", "UpdateQueue"]

OPT_IN_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
"""Update types delivered only when listed in allowed_updates."""

TERMINATED_BY_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
TERMINATED_BY_WEBHOOK = "Conflict: terminated by setWebhook request"


class UpdateQueue:
    """Pending updates in update_id order; one long poll at a time, as on Telegram."""

    def __init__(self, first_update_id: int = 1) -> None:
        self._items: deque[dict[str, Any]] = deque()
        self._next_id = first_update_id
        self._allowed: frozenset[str] | None = None
        self._waiters: list[asyncio.Future[None]] = []
        self._poll_generation = 0
        self._poll_end_reason = TERMINATED_BY_POLL
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    @property
    def allowed_updates(self) -> list[str] | None:
        """The current filter, or None for Telegram's default (everything but opt-in types)."""
        return sorted(self._allowed) if self._allowed is not None else None

    def set_allowed(self, types: Iterable[str] | None) -> None:
        """Replace the filter; None or an empty list restores the default."""
        chosen = frozenset(types or ())
        self._allowed = chosen or None

    def allows(self, kind: str) -> bool:
        """Whether an update of this type is kept."""
        if self._allowed is None:
            return kind not in OPT_IN_TYPES
        return kind in self._allowed

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Number and queue an update; None when the filter drops it."""
        if not self.allows(kind):
            return None
        update = {"update_id": self._next_id, kind: payload}
        self._next_id += 1
        self._items.append(update)
        self._wake()
        return update

    def confirm(self, offset: int) -> None:
        """Forget updates below offset; a negative offset keeps only the last -offset ones."""
        items = self._items
        if offset < 0:
            while len(items) > -offset:
                items.popleft()
            return
        while items and items[0]["update_id"] < offset:
            items.popleft()

    def take(self, limit: int) -> list[dict[str, Any]]:
        """Up to limit pending updates, without removing them.

        As on Telegram, a new filter does not affect updates queued before it was set.
        """
        return list(itertools.islice(self._items, limit))

    def drop_pending(self) -> None:
        """Forget every pending update (drop_pending_updates)."""
        self._items.clear()

    def interrupt_polling(self, reason: str = TERMINATED_BY_WEBHOOK) -> None:
        """End a waiting getUpdates with 409 Conflict."""
        self._poll_generation += 1
        self._poll_end_reason = reason
        self._wake()

    async def get_updates(
        self, offset: int | None, limit: int, wait: float
    ) -> list[dict[str, Any]]:
        """getUpdates: confirm below offset, then return at once or wait up to `wait` s."""
        if offset is not None:
            self.confirm(offset)
        self.interrupt_polling(TERMINATED_BY_POLL)
        generation = self._poll_generation
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout_at(loop.time() + max(wait, 0.0)):
                while True:
                    found = self.take(limit)
                    if found or self._closed or wait <= 0:
                        return found
                    if generation != self._poll_generation:
                        raise ApiError(409, self._poll_end_reason)
                    await self._wait()
        except TimeoutError:
            return []

    async def pop(self) -> dict[str, Any]:
        """The oldest pending update, removed (for webhook delivery); waits for one."""
        while not self._items:
            if self._closed:
                raise asyncio.CancelledError
            await self._wait()
        return self._items.popleft()

    def close(self) -> None:
        """Release every waiter: polls return [] at once."""
        self._closed = True
        self._wake()

    async def _wait(self) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if not waiter.done():
                waiter.cancel()
                self._waiters.remove(waiter)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
