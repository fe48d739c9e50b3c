"""Delivery: the one sender of everything proactive, from a durable outbox, within limits.

How it works
- Every message is an outbox row (state pending, sent with Telegram's message id, blocked,
  failed with the reason, cancelled), written in the transaction that caused it; a
  broadcast writes one row per recipient with one INSERT ... SELECT.
- A `Sender` (one per process) claims due rows for `lease` seconds (`claimed_by`,
  `claimed_until`; `FOR UPDATE SKIP LOCKED` on PostgreSQL, so processes never share a row),
  asks the `RateLimiter` for a send time per row, sends each at its time and records the
  outcome right after Telegram answers, several outcomes per transaction under load.
- The rate limiter keeps a virtual schedule: a global "free at" time moved on by 1/rate per
  message (SEND_RATE, default 25/s; 1000/s with PAID_BROADCAST=1, sent with
  allow_paid_broadcast), and a "free at" time per chat moved to send time + 1 s. One process
  (SQLite) keeps them in memory; on PostgreSQL they live in `send_pacing` and every process
  takes its slots with one atomic upsert, so the limits hold across processes.
- 429: the global schedule is held for retry_after (in the database too, for the other
  processes), the message and the ones scheduled after it go back to pending until then.
  403: blocked, the member becomes unreachable, and their other pending rows are settled as
  blocked when claimed. 400: failed with Telegram's reason. Network errors and 5xx: retried
  with exponential backoff (2 s, 4 s, ...) up to 5 attempts, then failed.
- A `Watch` is looked at before each send and re-read from the database at most every
  0.25 s: a broadcast an admin cancelled sends nothing more, and a 429 met by another
  process holds this one's scheduled sends too. A 400 about a broadcast's content (its
  photo, HTML, length or button) stops the broadcast after its first failure, with
  Telegram's reason kept in `broadcasts.stop_reason`: every other recipient would fail alike.
- Each send then takes its turn in the process's `Pace` (`bot.telegram.pace`), shared with
  replies: 30 messages/s for the bot, one a second per chat; the sender claims nothing while
  replies queue there for more than its lookahead, so people's replies go first.
- Stopping (Ctrl+C, SIGTERM): nothing more is claimed, sends under way get 5 s to finish
  and be recorded, and the remaining claims are handed back, so a restart resumes at once.
  A killed process's claims lapse after `lease` and are taken again. Nothing pending is
  ever lost.

The one window for a double send: Telegram accepted a message and its outcome was never
committed (the process died, or a request got no answer: a network error, no answer within
60 s, or no answer before a stop's 5 s ran out). That message is sent again, once, after a
backoff or the lease. A send in flight is never claimed again: its claim is renewed until
its outcome is recorded, however slowly Telegram answers (see `bot.delivery.sender`).
"""

from bot.delivery.pacing import MemorySlots, RateLimiter, SlotStore
from bot.delivery.sender import DeliverySettings, Sender

__all__ = ["DeliverySettings", "MemorySlots", "RateLimiter", "Sender", "SlotStore"]
