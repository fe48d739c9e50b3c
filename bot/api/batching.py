"""Group commit for the purchases endpoint: concurrent receipts recorded in one transaction.

Requests queue their receipt and wait for its outcome. One task records what is queued,
up to `MAX_BATCH` receipts, with `record_each` (one transaction; each receipt alone if it
fails as a whole, so one bad request never fails the others), and answers each request
with its own outcome once the transaction committed. A receipt arriving while no
transaction runs is recorded at once, as a batch of one; receipts arriving while one runs
form the next batch. After a transaction the task waits at most `LINGER_SECONDS` until as
many receipts are queued as there were requests in hand (the clients just answered tend
to come back together), so only a request arriving while the task is busy or just after
waits for company. Nothing here is HTTP: any place with many concurrent callers can
record through a `PurchaseBatcher`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain.ports import UnitOfWork
from domain.program import Program
from domain.services.purchases import PurchaseOutcome, ReceiptIn, record_each

UowFactory = Callable[[], UnitOfWork]
MAX_BATCH = 50  # receipts per transaction: enough to amortise it, small enough to stay quick
LINGER_SECONDS = 0.002  # the longest a busy task waits for more receipts before a transaction


@dataclass(frozen=True)
class _Waiting:
    """A queued receipt and the future its request awaits."""

    receipt: ReceiptIn
    answer: asyncio.Future[PurchaseOutcome]


class PurchaseBatcher:
    """Records concurrent receipts together, each answered as `record_purchase` would."""

    def __init__(
        self, writer: UowFactory, program: Program, merchant: str, clock: Callable[[], datetime]
    ) -> None:
        self.writer, self.program, self.merchant, self.clock = writer, program, merchant, clock
        self._queue: list[_Waiting] = []
        self._worker: asyncio.Task[None] | None = None
        self._arrived = asyncio.Event()  # set by each new receipt, for the lingering task

    async def record(self, receipt: ReceiptIn) -> PurchaseOutcome:
        """The receipt's outcome once committed; raises its refusal (LoyaltyError)."""
        waiting = _Waiting(receipt, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        self._arrived.set()
        if self._worker is None or self._worker.done():  # a new one per event loop, too
            self._arrived = asyncio.Event()
            self._worker = asyncio.create_task(self._drain())
        return await waiting.answer

    async def _drain(self) -> None:
        """Record batches until the queue is still empty after a linger."""
        while self._queue:
            batch = self._queue[:MAX_BATCH]
            del self._queue[:MAX_BATCH]
            outcomes = await record_each(
                self.writer(),
                self.program,
                [waiting.receipt for waiting in batch],
                now=self.clock(),
                merchant=self.merchant,
            )
            for waiting, outcome in zip(batch, outcomes, strict=True):
                _settle(waiting.answer, outcome)
            await self._linger(len(batch) + len(self._queue))

    async def _linger(self, expected: int) -> None:
        """Wait until `expected` receipts are queued, at most `LINGER_SECONDS`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LINGER_SECONDS
        while len(self._queue) < min(expected, MAX_BATCH) and loop.time() < deadline:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), deadline - loop.time())
            except TimeoutError:
                return


def _settle(answer: asyncio.Future[PurchaseOutcome], outcome: PurchaseOutcome | Exception) -> None:
    """Resolve a request's future, unless its client went away (cancelled) meanwhile."""
    if answer.done():
        return
    if isinstance(outcome, Exception):
        answer.set_exception(outcome)
    else:
        answer.set_result(outcome)
