"""`Sender`: claims due outbox rows, sends each in its slot, records what became of it.

Claims and sends in flight (the lease rule): a row is claimed for `lease` seconds; its send
starts only while at least `margin` of the claim is left (a third of the lease, at most
10 s), after taking its turn in the process's `Pace` (shared with replies). From the moment
its request starts until its outcome is committed the row is "in flight": its claim is
renewed every margin / 2 to now + lease, so no pass of this process and no other process
can claim it again however slowly Telegram answers. Should a renewal come late all the same
(a database slower than the lease), this process still never sends a row twice: a row it
has scheduled is ignored by its own later claims until its outcome is recorded. A request
is bounded by `request_timeout` (60 s; the frameworks' own timeouts are shorter): no answer
counts as network trouble and is retried after a backoff (Telegram may have taken it: the
message can arrive twice, like the crash case).

Stopping (the task cancelled: Ctrl+C, SIGTERM): nothing more is claimed; sends waiting for
their slot are dropped; sends under way get `grace` seconds (5) to finish and be recorded;
a send still unanswered then is abandoned and its row kept from everyone for one lease (its
outcome is unknown: the crash case); every other claimed, unsent row is handed back at once.
A cancel never cuts a database write short (`to_the_end`): on SQLite a statement cut short
keeps the write lock, so the stop's own writes waited out the busy timeout and failed.

Logs: a send Telegram refuses (400) is one WARNING line with the chat and Telegram's reason;
a block is one INFO line; Telegram unreachable and database failures, which repeat every
second while they last, are `Trouble`s: one line a minute with a count (a traceback only the
first time, and only for an unexpected exception), and one line when they are over.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

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
from bot.delivery.trouble import Trouble
from bot.delivery.watch import Watch
from bot.telegram.pace import LocalPace
from bot.telegram.replies import (
    BotApi,
    RecipientBlocked,
    RetryLater,
    TelegramRefused,
    TelegramUnreachable,
)
from domain.broadcasts import BroadcastContent
from domain.models import Notification
from domain.outbox import Outcome
from domain.ports import UnitOfWork
from domain.program import Program
from domain.services.broadcasts import cancel_broadcast, get_broadcast
from domain.services.notifications import (
    claim_notifications,
    release_notifications,
    renew_claims,
    settle_notifications,
)

log = logging.getLogger(__name__)

PRUNE_EVERY = 60.0
T = TypeVar("T")


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
    request_timeout: float = 60.0  # a send unanswered this long counts as network trouble
    grace: float = 5.0  # on stop, sends under way get this long to finish

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


async def to_the_end(write: Awaitable[T]) -> T:
    """`write` run to its end even if the caller is cancelled meanwhile; the cancel is
    raised once it has ended. A SQLite statement cut short by a cancel leaves its cursor
    open, and its closed connection holds the write lock until a garbage collection frees
    that cursor: every later write, handing back the claims included, waited the whole busy
    timeout (30 s) and failed, and a SIGTERM took a minute."""
    task = asyncio.ensure_future(write)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # retrieved: the caller gets the cancel
        raise


class Sender:
    """One per process; several processes on PostgreSQL share the outbox and the pace."""

    def __init__(
        self,
        writer: Callable[[], UnitOfWork],
        reader: Callable[[], UnitOfWork],
        api: BotApi,
        limiter: RateLimiter,
        settings: DeliverySettings,
        clock: Callable[[], datetime] = utc_now,
        worker: str | None = None,
        sign: Signer | None = None,
        program: Program | None = None,
    ) -> None:
        self.writer, self.reader, self.api = writer, reader, api
        self.sign = sign  # signs gift buttons for each recipient; without it, none are sent
        self.program = program  # its titles in each member's language; without it, the keys
        self.limiter, self.settings, self.clock = limiter, settings, clock
        self.worker = worker or worker_name()
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: set[asyncio.Task[None]] = set()
        self._sending: dict[int, Notification] = {}  # row id: its request under way
        self._in_flight: set[int] = set()  # rows from their request to their recorded outcome
        self._held: set[int] = set()  # rows scheduled here, until their outcome is recorded
        self._unsettled: list[Outcome] = []
        self._flushing = False
        self._paused_until = 0.0
        self._pruned_at = 0.0
        self._pace = LocalPace(limiter.interval, settings.catch_up)
        self._contents: dict[int, BroadcastContent | None] = {}
        self._loading = asyncio.Lock()  # one read of a broadcast, not one per waiting send
        self._flying: Counter[int] = Counter()  # broadcast id: its rows scheduled here
        self.trouble = Trouble(log, "outbox: delivery failing; retrying")
        self.telegram_down = Trouble(log, "outbox: Telegram unreachable; retrying")
        self.watch = Watch(reader, limiter, self.trouble)

    async def run(self) -> None:
        """Send until cancelled; then finish the sends under way and hand back the rest."""
        keeper = asyncio.create_task(self._keep_claims())
        try:
            while True:
                wake = await self._pass()
                await asyncio.sleep(max(0.0, wake - self._now()))
        finally:
            try:
                await self.stop()
            finally:
                keeper.cancel()
                await asyncio.wait([keeper])  # a renewal under way ends first (`to_the_end`)

    async def _pass(self) -> float:
        """One look at what is due; when to look again (soon, after a failure)."""
        try:
            wake = await self.send_due()
        except Exception as error:
            self.trouble.happened(self._now(), error, unexpected=True)
            return self._now() + self.settings.idle
        self.trouble.over()
        return wake

    async def send_due(self) -> float:
        """Claim what is due and schedule each send in its slot; when to look again."""
        s, now = self.settings, self._now()
        free = await self.limiter.free_at()
        if free > now + s.lookahead:  # paused after a 429, or other processes are ahead
            return free - s.lookahead
        queued = 0.0 if s.paid else self.api.pace.backlog()
        if queued > s.lookahead:  # replies are waiting for their turns: they go first
            return now + queued - s.lookahead
        await self._prune(now)
        at = self.clock()
        until = at + timedelta(seconds=s.lease)
        notes = await to_the_end(
            claim_notifications(self.writer(), self.worker, at, until, s.batch)
        )
        if not notes:
            return now + s.idle
        return await self._schedule(notes, at, until)

    async def _schedule(
        self, notes: Sequence[Notification], at: datetime, until: datetime
    ) -> float:
        """Slot the claimed rows from now, after a fresh look at cancellations and holds
        (which the first sends would otherwise wait for); when to claim again."""
        settled: list[Outcome] = []
        ready: list[Notification] = []
        for note in notes:
            if note.id in self._held:  # its claim lapsed under a late renewal: already ours
                continue
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
        """Drop sends not yet started, give the others `grace` seconds, keep the rows of
        sends still unanswered for a lease, and hand back every other unsent claim."""
        for task in self._waiting:
            task.cancel()
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=self.settings.grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        at = self.clock()
        keep = at + timedelta(seconds=self.settings.lease)
        unknown = [
            later(note, at, keep, "stopped while sending: outcome unknown")
            for note in self._sending.values()
        ]
        if unknown:
            log.warning(
                "outbox: stopped with %d sends unanswered; they are retried after "
                "%.0f s (they may arrive twice)",
                len(unknown),
                self.settings.lease,
            )
        self._unsettled.extend(unknown)
        if self._unsettled and not await self._flush():
            log.error(
                "outbox: %d outcomes not recorded on stop; every row claimed here is "
                "retried after %.0f s",
                len(self._unsettled),
                self.settings.lease,
            )
            return  # handing back rows whose send went out but is unrecorded would resend
        try:
            await release_notifications(self.writer(), self.worker)
        except Exception as error:
            log.error(
                "outbox: claims not handed back on stop (%s); they lapse after %.0f s",
                error,
                self.settings.lease,
            )

    def _spawn(self, note: Notification, when: float, until: datetime) -> None:
        self._held.add(note.id)
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
            on_turn = await self._turn(note, until)
            self._waiting.discard(asyncio.current_task())
            if on_turn:
                outcome = await self._attempt(note, until)
            else:
                outcome = later(note, self.clock(), self.clock(), "no turn before the lease")
            await self._record([outcome])
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

    async def _turn(self, note: Notification, until: datetime) -> bool:
        """Wait for this send's turn in the process's pace (shared with replies); False if
        it would come too late for the claim."""
        assert note.telegram_id is not None, "unsendable rows are settled before"
        pace = self.api.pace
        left = (until - self.settings.margin - self.clock()).total_seconds()
        waited = await pace.turn(note.telegram_id, self.settings.paid, pace.clock() + left)
        return waited is not None

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
            log.exception("outbox: cannot compose row %s", note.id)
            return failed(note, at, TelegramRefused(f"cannot compose: {error}"))
        self._sending[note.id] = note
        self._in_flight.add(note.id)
        outcome = await self._send(note, message)
        self._sending.pop(note.id, None)  # left there when cancelled: outcome unknown
        return outcome

    async def _send(self, note: Notification, message: Send) -> Outcome:
        """One request to Telegram and what its answer means for the row."""
        chat = message.chat_id
        try:
            async with asyncio.timeout(self.settings.request_timeout):
                message_id = await self.api.send(message)
        except RetryLater as wait:
            return await self._pause(note, wait.seconds)
        except TelegramRefused as error:
            log.warning("outbox: send to chat %s refused by Telegram: %s", chat, error)
            outcome = failed(note, self.clock(), error)
            if note.broadcast_id is not None and spoils_broadcast(error):
                await self._stop(note.broadcast_id, outcome)
            return outcome
        except RecipientBlocked as error:
            log.info("outbox: chat %s has blocked the bot (%s)", chat, error)
            return failed(note, self.clock(), error)
        except TelegramUnreachable as error:
            return self._unreachable(note, chat, str(error))
        except TimeoutError:
            return self._unreachable(
                note, chat, f"no answer in {self.settings.request_timeout:g} s"
            )
        self.telegram_down.over()
        return sent(note, self.clock(), message_id)

    def _unreachable(self, note: Notification, chat: int, reason: str) -> Outcome:
        """Network trouble: retried after a backoff; logged once a minute while it lasts."""
        self.telegram_down.happened(self._now(), f"send to chat {chat}: {reason}")
        return failed(note, self.clock(), TelegramUnreachable(reason))

    async def _pause(self, note: Notification, seconds: float) -> Outcome:
        """A 429: nothing goes (here, or elsewhere once they look) until retry_after."""
        at = self.clock()
        resume = at.timestamp() + seconds
        self._paused_until = max(self._paused_until, resume)
        await self.limiter.pause(resume)
        log.warning("outbox: 429 from Telegram: pausing sends for %s s", seconds)
        return later(note, at, self._at(resume), f"429: retry after {seconds}")

    async def _stop(self, broadcast_id: int, refused: Outcome) -> None:
        """Telegram refused the broadcast's content: record this row as failed, then cancel
        the rest, which would fail alike."""
        self.watch.cancelled.add(broadcast_id)
        log.error(
            "broadcast %s stopped: Telegram refused its content: %s", broadcast_id, refused.error
        )
        try:
            await settle_notifications(self.writer(), self.worker, [refused])
            await cancel_broadcast(self.writer(), broadcast_id, self.clock(), refused.error)
        except Exception:
            log.exception(
                "could not stop broadcast %s; its rows will fail one by one", broadcast_id
            )

    async def _message(self, note: Notification) -> Send:
        assert note.telegram_id is not None, "unsendable rows are settled before"
        if note.broadcast_id is None:
            return notification_message(
                note, note.telegram_id, self.settings.paid, self.sign, self.program
            )
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
                if not await self._flush():
                    await asyncio.sleep(self.settings.idle)
        finally:
            self._flushing = False

    async def _flush(self) -> bool:
        """Write every unsettled outcome in one transaction; False if the database failed."""
        batch, self._unsettled = self._unsettled, []
        try:
            await to_the_end(settle_notifications(self.writer(), self.worker, batch))
        except BaseException as error:
            self._unsettled[:0] = batch  # kept for the next try, even when cancelled
            if not isinstance(error, Exception):
                raise
            self.trouble.happened(self._now(), error, unexpected=True)
            return False
        self._in_flight.difference_update(o.id for o in batch)
        self._held.difference_update(o.id for o in batch)
        return True

    async def _keep_claims(self) -> None:
        """Renew the claims of rows in flight every half margin, so none lapses under a send
        that Telegram is slow to answer (or whose outcome is not yet recorded)."""
        every = self.settings.margin.total_seconds() / 2
        while True:
            await asyncio.sleep(every)
            if not self._in_flight:
                continue
            until = self.clock() + timedelta(seconds=self.settings.lease)
            try:
                await to_the_end(
                    renew_claims(self.writer(), self.worker, set(self._in_flight), until)
                )
            except Exception as error:
                self.trouble.happened(self._now(), error, unexpected=True)

    async def _prune(self, now: float) -> None:
        if now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            await self.limiter.store.forget_before(now - self.settings.spacing)

    def _now(self) -> float:
        return self.clock().timestamp()

    @staticmethod
    def _at(moment: float) -> datetime:
        return datetime.fromtimestamp(moment, UTC)
