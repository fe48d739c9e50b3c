"""What a send's result or error means for its outbox row, and how long to back off."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.telegram.replies import RecipientBlocked, RetryLater, TelegramRefused
from domain.models import Notification
from domain.outbox import Outcome

MAX_ATTEMPTS = 5
CONTENT_FAULTS = (
    "file identifier",
    "http url",
    "web page content",
    "image_process_failed",
    "photo_",
    "can't parse entities",
    "too long",
    "button_",
)  # lower case
BACKOFF_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0


def backoff(attempt: int) -> float:
    """Seconds to wait after the `attempt`-th failure (1, 2, ...): doubling, capped."""
    return min(BACKOFF_CAP_SECONDS, BACKOFF_SECONDS * 2.0 ** (attempt - 1))


def sent(note: Notification, at: datetime, message_id: int) -> Outcome:
    """Telegram accepted it."""
    return Outcome(
        note.id, note.member_id, "sent", at, message_id=message_id, broadcast_id=note.broadcast_id
    )


def later(note: Notification, at: datetime, retry_at: datetime, reason: str) -> Outcome:
    """Back to pending, not before `retry_at`, without counting an attempt."""
    return Outcome(
        note.id,
        note.member_id,
        "pending",
        at,
        error=reason,
        retry_at=retry_at,
        counts_attempt=False,
        broadcast_id=note.broadcast_id,
    )


def unsendable(note: Notification, at: datetime) -> Outcome | None:
    """Settled without sending: the member is forgotten or has blocked the bot."""
    if note.telegram_id is None:
        return Outcome(
            note.id,
            note.member_id,
            "cancelled",
            at,
            error="forgotten",
            counts_attempt=False,
            broadcast_id=note.broadcast_id,
        )
    if not note.reachable:
        return Outcome(
            note.id,
            note.member_id,
            "blocked",
            at,
            error="unreachable",
            counts_attempt=False,
            broadcast_id=note.broadcast_id,
        )
    return None


def dropped(note: Notification, at: datetime) -> Outcome:
    """Not sent: its broadcast was cancelled after the row was claimed."""
    return Outcome(
        note.id,
        note.member_id,
        "cancelled",
        at,
        error="cancelled",
        counts_attempt=False,
        broadcast_id=note.broadcast_id,
    )


def spoils_broadcast(error: TelegramRefused) -> bool:
    """Whether Telegram refused the message itself (its photo, text or button), which
    every other recipient would be refused too, rather than this one recipient."""
    reason = str(error).lower()  # PTB words some reasons differently ("Can't parse ...")
    return any(fault in reason for fault in CONTENT_FAULTS)


def failed(note: Notification, at: datetime, error: Exception) -> Outcome:
    """The outcome of a failed send (a 429 is handled before: it pauses everything)."""
    if isinstance(error, RecipientBlocked):
        return Outcome(
            note.id,
            note.member_id,
            "blocked",
            at,
            error=str(error) or "blocked",
            broadcast_id=note.broadcast_id,
        )
    if isinstance(error, TelegramRefused):
        return Outcome(
            note.id, note.member_id, "failed", at, error=str(error), broadcast_id=note.broadcast_id
        )
    attempt = note.attempts + 1
    if isinstance(error, RetryLater) or attempt < MAX_ATTEMPTS:
        retry_at = at + timedelta(seconds=backoff(attempt))
        return Outcome(
            note.id,
            note.member_id,
            "pending",
            at,
            error=str(error),
            retry_at=retry_at,
            broadcast_id=note.broadcast_id,
        )
    return Outcome(
        note.id, note.member_id, "failed", at, error=str(error), broadcast_id=note.broadcast_id
    )
