"""The dashboard's metrics per period, kept so the page answers at once.

Computing a period's figures, the period before and five charts reads every receipt of
both periods: seconds on a large program. A result is kept in memory and, through a
`Store`, in the database, where every process and restart finds it (and where the
scheduler keeps the default period computed ahead of any view). A result is fresh for
FRESH seconds; a view after that shows the kept result at once (with the time it was
computed), first looking for a newer one in the store, while one fresh computation runs in
the background. Only a period never computed before waits for its computation (a page
waits at most `PATIENCE` seconds, then says the figures are being computed and looks
again); views meanwhile wait for the same one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

FRESH_SECONDS = 600  # twice the scheduler's period: it refreshes the default period first
PATIENCE = 0.8  # seconds a page waits for a computation before it answers without it
AT_ONCE = 2  # computations running at once; more periods asked for wait their turn
KEPT = 32  # periods kept at most (each with five PNG charts: about 250 KB)

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Computed(Generic[T]):
    """A result and when its computation started."""

    value: T
    at: datetime


class Store(Protocol[T]):
    """Where results outlive the process: the database (bot.period_figures)."""

    async def load(self, key: Hashable) -> Computed[T] | None: ...
    async def save(self, key: Hashable, result: Computed[T]) -> None: ...


class PeriodCache(Generic[T]):
    """Results by key, each recomputed in the background once older than `fresh` seconds."""

    def __init__(
        self,
        compute: Callable[[Hashable], Awaitable[T]],
        clock: Callable[[], datetime],
        fresh: float = FRESH_SECONDS,
        kept: int = KEPT,
        store: Store[T] | None = None,
        at_once: int = AT_ONCE,
    ) -> None:
        self.compute, self.clock, self.fresh, self.kept = compute, clock, fresh, kept
        self.store = store
        self.turns = asyncio.Semaphore(at_once)  # each reads every receipt of two periods
        self.results: dict[Hashable, Computed[T]] = {}
        self.running: dict[Hashable, asyncio.Task[Computed[T]]] = {}

    async def get(self, key: Hashable, patience: float | None = None) -> Computed[T] | None:
        """The kept result (refreshed in the background when stale), or a new one; a new
        one that takes longer than `patience` seconds (None: no limit) goes on in the
        background and this answers None meanwhile."""
        kept = self.results.get(key)
        if self.store is not None and (kept is None or self._stale(kept)):
            stored = await self.store.load(key)
            if stored is not None and (kept is None or stored.at > kept.at):
                kept = self._remember(key, stored)
        if kept is None:
            try:
                return await asyncio.wait_for(asyncio.shield(self._start(key)), patience)
            except TimeoutError:
                return None
        if self._stale(kept):
            self._start(key)
        return kept

    def _stale(self, result: Computed[T]) -> bool:
        return (self.clock() - result.at).total_seconds() >= self.fresh

    def _start(self, key: Hashable) -> asyncio.Task[Computed[T]]:
        """The computation of `key` under way, or a new one."""
        task = self.running.get(key)
        if task is None:
            task = asyncio.create_task(self._run(key))
            task.add_done_callback(_report_failure)
            self.running[key] = task
        return task

    async def _run(self, key: Hashable) -> Computed[T]:
        try:
            async with self.turns:
                started = self.clock()
                result = Computed(await self.compute(key), started)
                if self.store is not None:
                    await self.store.save(key, result)
        finally:
            del self.running[key]
        return self._remember(key, result)

    def _remember(self, key: Hashable, result: Computed[T]) -> Computed[T]:
        """Keep `result` as the newest (the oldest go first when full)."""
        self.results.pop(key, None)
        self.results[key] = result
        while len(self.results) > self.kept:
            del self.results[next(iter(self.results))]
        return result


def _report_failure(task: asyncio.Task[Computed[T]]) -> None:
    """Log a computation that failed (a background one has nobody else to tell)."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("dashboard figures failed", exc_info=task.exception())
