"""The life of one outbox message: its states and what an attempt to send it came to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

State = Literal["pending", "sent", "blocked", "failed", "cancelled"]
STATES: tuple[State, ...] = ("pending", "sent", "blocked", "failed", "cancelled")


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed message; `pending` puts it back until `retry_at`."""

    id: int
    member_id: int
    state: State
    at: datetime
    message_id: int | None = None
    error: str | None = None
    retry_at: datetime | None = None
    counts_attempt: bool = True  # a 429 or a lost lease is not the message's fault
    broadcast_id: int | None = None
