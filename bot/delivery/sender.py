"""`Sender`: claims due outbox rows, sends each in its slot, records what became of it."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.conversation.actions import Send
from bot.conversation.buttons import Signer
from bot.delivery.compose import broadcast_message, notification_message
from bot.delivery.outcomes import (
    dropped,
    failed,
    later,
    sent,
    spoils_broadcast,
    unsendable,
)
from bot.delivery.pacing import RateLimiter
from bot.delivery.watch import Watch
from bot.telegram.pace import LocalPace
from bot.telegram.replies import BotApi, RecipientBlocked, RetryLater, TelegramRefused
from domain.broadcasts import BroadcastContent
from domain.models import Notification
from domain.outbox import Outcome
from domain.ports import UnitOfWork
from domain.services.broadcasts import cancel_broadcast, get_broadcast
from domain.services.notifications import (
    claim_notifications,
    release_notifications,
    settle_notifications,
)

log = logging.getLogger(__name__)

PRUNE_EVERY = 60.0


@dataclass(frozen=True)
class DeliverySettings:
    """How fast and how safely to send (seconds and messages per second)."""

    rate: float = 25.0
    paid: bool = False
    spacing: float = 1.0  # between two messages to one chat
    lease: float = 30.0  # a claim's life: a dead process's rows are re-taken after it
    lookahead: float = 1.0  # claim and schedule this much sending at a time
    idle: float = 1.0  # rest when nothing is due
    catch_up: float = 0.05  # a late process makes up at most this much sending in one burst

    @property
    def batch(self) -> int:
        """Rows claimed per pass."""
        return max(1, round(self.rate * self.lookahead))

    @property
    def margin(self) -> timedelta:
        """A send starts only this long before its claim lapses, so it ends while held."""
        return timedelta(seconds=min(10.0, self.lease / 3))


def worker_name() -> str:
    """This process's name on its claims: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


def utc_now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


class Sender:
    """One per process; several processes on PostgreSQL share the outbox and the pace."""

    def __init__(self, writer: Callable[[], UnitOfWork], reader: Callable[[], UnitOfWork],
                 api: BotApi, limiter: RateLimiter, settings: DeliverySettings,
                 clock: Callable[[], datetime] = utc_now, worker: str | None = None,
                 sign: Signer | None = None) -> None:
        self.writer, self.reader, self.api = writer, reader, api
        self.sign = sign  # signs gift buttons for each recipient; without it, none are sent
        self.limiter, self.settings, self.clock = limiter, settings, clock
        self.worker = worker or worker_name()
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: set[asyncio.Task[None]] = set()
        self._unsettled: list[Outcome] = []
        self._flushing = False
        self._paused_until = 0.0
        self._pruned_at = 0.0
        self._pace = LocalPace(limiter.interval, settings.catch_up)
        self._contents: dict[int, BroadcastContent | None] = {}
        self._loading = asyncio.Lock()  # one read of a broadcast, not one per waiting send
        self._flying: Counter[int] = Counter()  # broadcast id: its rows scheduled here
        self.watch = Watch(reader, limiter)

    async def run(self) -> None:
        """Send until cancelled; then finish the sends under way and hand back the rest."""
        try:
            while True:
                try:
                    wake = await self.send_due()
                except Exception:
                    log.exception("outbox delivery failed; retrying")
                    wake = self._now() + self.settings.idle
                await asyncio.sleep(max(0.0, wake - self._now()))
        finally:
            await self.stop()

    async def send_due(self) -> float:
        """Claim what is due and schedule each send in its slot; when to look again."""
        s, now = self.settings, self._now()
        free = await self.limiter.free_at()
        if free > now + s.lookahead:  # paused after a 429, or other processes are ahead
            return free - s.lookahead
        await self._prune(now)
        at = self.clock()
        until = at + timedelta(seconds=s.lease)
        notes = await claim_notifications(self.writer(), self.worker, at, until, s.batch)
        if not notes:
            return now + s.idle
        return await self._schedule(notes, at, until)

    async def _schedule(self, notes: Sequence[Notification], at: datetime,
                        until: datetime) -> float:
        """Slot the claimed rows from now, after a fresh look at cancellations and holds
        (which the first sends would otherwise wait for); when to claim again."""
        settled: list[Outcome] = []
        ready: list[Notification] = []
        for note in notes:
            outcome = unsendable(note, at)
            settled.append(outcome) if outcome else ready.append(note)
        running = {n.broadcast_id for n in ready if n.broadcast_id is not None}
        await self.watch.refresh(self._now(), running | self._flying.keys())
        now, busy = self._now(), at + timedelta(seconds=self.settings.spacing)
        times = await self.limiter.schedule([n.member_id for n in ready], now)
        for note, when in zip(ready, times, strict=True):
            if when is None:  # its chat is busy: another message to it goes first
                settled.append(later(note, at, busy, "chat busy"))
            else:
                self._spawn(note, when, until)
        await self._record(settled)
        return max((t for t in times if t is not None), default=now) - self.settings.lookahead / 2

    async def drain(self) -> None:
        """Wait for every scheduled send and record its outcome."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._record([])

    async def stop(self) -> None:
        """Drop sends not yet started, finish the others, and hand back unsent claims."""
        for task in self._waiting:
            task.cancel()
        await self.drain()
        await release_notifications(self.writer(), self.worker)

    def _spawn(self, note: Notification, when: float, until: datetime) -> None:
        if note.broadcast_id is not None:
            self._flying[note.broadcast_id] += 1
        task = asyncio.create_task(self._deliver(note, when, until))
        self._tasks.add(task)
        self._waiting.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, note: Notification, when: float, until: datetime) -> None:
        try:
            await asyncio.sleep(max(0.0, when - self._now()))
            await self._keep_pace()
            self._waiting.discard(asyncio.current_task())
            await self._record([await self._attempt(note, until)])
        finally:
            if note.broadcast_id is not None:
                self._flying[note.broadcast_id] -= 1
                if not self._flying[note.broadcast_id]:
                    del self._flying[note.broadcast_id]

    async def _keep_pace(self) -> None:
        """Sends that woke late make up lost time in a bounded burst, then go on pace."""
        now = time.monotonic()
        start = self._pace.start(now)
        if start > now:
            await asyncio.sleep(start - now)

    async def _attempt(self, note: Notification, until: datetime) -> Outcome:
        at = self.clock()
        await self.watch.refresh(at.timestamp(), self._flying.keys())
        if self.watch.stopped(note.broadcast_id):
            return dropped(note, at)
        held = max(self._paused_until, self.watch.held_until)
        if held > at.timestamp():
            return later(note, at, self._at(held), "paused after a 429")
        if at >= until - self.settings.margin:
            return later(note, at, at, "claim about to lapse")
        try:
            message = await self._message(note)
        except Exception as error:
            log.exception("cannot compose outbox row %s", note.id)
            return failed(note, at, TelegramRefused(f"cannot compose: {error}"))
        try:
            message_id = await self.api.send(message)
        except RetryLater as wait:
            return await self._pause(note, wait.seconds)
        except TelegramRefused as error:
            outcome = failed(note, self.clock(), error)
            if note.broadcast_id is not None and spoils_broadcast(error):
                await self._stop(note.broadcast_id, outcome)
            return outcome
        except Exception as error:
            if not isinstance(error, RecipientBlocked):
                log.warning("outbox row %s: %s; will retry", note.id, error)
            return failed(note, self.clock(), error)
        return sent(note, self.clock(), message_id)

    async def _pause(self, note: Notification, seconds: float) -> Outcome:
        """A 429: nothing goes (here, or elsewhere once they look) until retry_after."""
        at = self.clock()
        resume = at.timestamp() + seconds
        self._paused_until = max(self._paused_until, resume)
        await self.limiter.pause(resume)
        log.warning("429 from Telegram: pausing sends for %s s", seconds)
        return later(note, at, self._at(resume), f"429: retry after {seconds}")

    async def _stop(self, broadcast_id: int, refused: Outcome) -> None:
        """Telegram refused the broadcast's content: record this row as failed, then cancel
        the rest, which would fail alike."""
        self.watch.cancelled.add(broadcast_id)
        log.error("broadcast %s stopped: Telegram refused its content: %s", broadcast_id,
                  refused.error)
        try:
            await settle_notifications(self.writer(), self.worker, [refused])
            await cancel_broadcast(self.writer(), broadcast_id, self.clock(), refused.error)
        except Exception:
            log.exception("could not stop broadcast %s; its rows will fail one by one",
                          broadcast_id)

    async def _message(self, note: Notification) -> Send:
        assert note.telegram_id is not None, "unsendable rows are settled before"
        if note.broadcast_id is None:
            return notification_message(note, note.telegram_id, self.settings.paid)
        content = await self._content(note.broadcast_id)
        if content is None:
            raise LookupError(f"broadcast {note.broadcast_id} not found")
        gift = (self.sign, note.broadcast_id) if self.sign else None
        return broadcast_message(note.telegram_id, content, self.settings.paid, gift)

    async def _content(self, broadcast_id: int) -> BroadcastContent | None:
        """A broadcast's content, read once: sends due meanwhile wait for that read."""
        if broadcast_id not in self._contents:
            async with self._loading:
                if broadcast_id not in self._contents:
                    broadcast = await get_broadcast(self.reader(), broadcast_id)
                    self._contents[broadcast_id] = broadcast.content if broadcast else None
        return self._contents[broadcast_id]

    async def _record(self, outcomes: Sequence[Outcome]) -> None:
        """Settle outcomes as soon as possible, many in one transaction under load."""
        self._unsettled.extend(outcomes)
        if self._flushing:
            return  # the flush under way takes these too
        self._flushing = True
        try:
            while self._unsettled:
                batch, self._unsettled = self._unsettled, []
                try:
                    await settle_notifications(self.writer(), self.worker, batch)
                except Exception:
                    log.exception("could not record %d outbox outcomes; retrying", len(batch))
                    self._unsettled[:0] = batch
                    await asyncio.sleep(self.settings.idle)
        finally:
            self._flushing = False

    async def _prune(self, now: float) -> None:
        if now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            await self.limiter.store.forget_before(now - self.settings.spacing)

    def _now(self) -> float:
        return self.clock().timestamp()

    @staticmethod
    def _at(moment: float) -> datetime:
        return datetime.fromtimestamp(moment, UTC)
