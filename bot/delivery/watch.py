"""`Watch`: what changed elsewhere after a row was claimed, re-read at most every `fresh` s.

A claimed row waits up to a second for its slot. In that time an admin may cancel its
broadcast, or another process may meet a 429 that holds every send of the bot. Each send
looks here first; the database is asked at most once per `fresh` seconds, by one send,
while the others go on with what was last read.
"""

from __future__ import annotations

from collections.abc import Callable, Set

from bot.delivery.pacing import RateLimiter
from bot.delivery.trouble import Trouble
from domain.ports import UnitOfWork
from domain.services.broadcasts import cancelled_broadcasts


class Watch:
    """Cancelled broadcasts and the shared 429 hold, as last read."""

    def __init__(
        self,
        reader: Callable[[], UnitOfWork],
        limiter: RateLimiter,
        trouble: Trouble,
        fresh: float = 0.25,
    ) -> None:
        self.reader, self.limiter, self.fresh = reader, limiter, fresh
        self.trouble = trouble  # a failed read is the sender's database trouble
        self.cancelled: set[int] = set()
        self.held_until = 0.0
        self._read_at = float("-inf")
        self._reading = False

    def stopped(self, broadcast_id: int | None) -> bool:
        """Whether this row's broadcast was cancelled (as last read)."""
        return broadcast_id is not None and broadcast_id in self.cancelled

    async def refresh(self, now: float, running: Set[int]) -> None:
        """Re-read if the last reading is older than `fresh`; `running`: broadcasts in hand."""
        if self._reading or now - self._read_at < self.fresh:
            return
        self._reading, self._read_at = True, now
        try:
            self.held_until = await self.limiter.held_until()
            self.cancelled |= await cancelled_broadcasts(self.reader(), running - self.cancelled)
        except Exception as error:  # sending goes on with what was last read
            self.trouble.happened(now, error, unexpected=True)
        finally:
            self._reading = False
