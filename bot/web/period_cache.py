"""The dashboard's metrics per period, kept a few minutes so the page answers at once.

Computing a period's figures, the period before and five charts reads every receipt of
both periods: seconds on a large program. A period's result is kept FRESH seconds; a view
after that shows the kept result at once (with the time it was computed) while one fresh
computation runs in the background, whose result the next view shows. The first view of
a period waits for its computation; views meanwhile wait for the same one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

FRESH_SECONDS = 300
KEPT = 32  # periods kept at most (each with five PNG charts: about 250 KB)

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Computed(Generic[T]):
    """A result and when its computation started."""

    value: T
    at: datetime


class PeriodCache(Generic[T]):
    """Results by key, each recomputed in the background once older than `fresh` seconds."""

    def __init__(
        self,
        compute: Callable[[Hashable], Awaitable[T]],
        clock: Callable[[], datetime],
        fresh: float = FRESH_SECONDS,
        kept: int = KEPT,
    ) -> None:
        self.compute, self.clock, self.fresh, self.kept = compute, clock, fresh, kept
        self.results: dict[Hashable, Computed[T]] = {}
        self.running: dict[Hashable, asyncio.Task[Computed[T]]] = {}

    async def get(self, key: Hashable) -> Computed[T]:
        """The kept result (refreshed in the background when stale), or a new one."""
        kept = self.results.get(key)
        if kept is None:
            return await asyncio.shield(self._start(key))
        if (self.clock() - kept.at).total_seconds() >= self.fresh:
            self._start(key)
        return kept

    def _start(self, key: Hashable) -> asyncio.Task[Computed[T]]:
        """The computation of `key` under way, or a new one."""
        task = self.running.get(key)
        if task is None:
            task = asyncio.create_task(self._run(key))
            task.add_done_callback(_report_failure)
            self.running[key] = task
        return task

    async def _run(self, key: Hashable) -> Computed[T]:
        started = self.clock()
        try:
            result = Computed(await self.compute(key), started)
        finally:
            del self.running[key]
        self.results.pop(key, None)
        self.results[key] = result  # the newest last: the oldest go first when full
        while len(self.results) > self.kept:
            del self.results[next(iter(self.results))]
        return result


def _report_failure(task: asyncio.Task[Computed[T]]) -> None:
    """Log a computation that failed (a background one has nobody else to tell)."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("dashboard figures failed", exc_info=task.exception())
