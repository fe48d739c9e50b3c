"""A broadcast: what it says, and how far its delivery has come."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.segments import Segment


@dataclass(frozen=True)
class BroadcastContent:
    """HTML text (the caption when there is a photo), with an optional button.

    A button opens `button_url`, or grants `bonus_points` or a `reward_id` voucher once per
    member.
    """

    text: str
    photo: str | None = None  # a Telegram file_id, or an HTTPS URL Telegram fetches
    button_text: str | None = None
    button_url: str | None = None
    bonus_points: int | None = None
    reward_id: str | None = None


@dataclass(frozen=True)
class Broadcast:
    """A queued broadcast: its content, audience, state (running, done, cancelled) and size."""

    id: int
    created_by: str
    created_at: datetime
    content: BroadcastContent
    segment: Segment
    state: str
    total: int
    status_chat_id: int | None
    status_message_id: int | None
    stop_reason: str | None = None  # set when Telegram refused the content and it was stopped


@dataclass(frozen=True)
class BroadcastProgress:
    """How many of a broadcast's messages are in each state."""

    total: int
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    pending: int = 0
    cancelled: int = 0

    @property
    def finished(self) -> bool:
        """Whether nothing is left to send."""
        return self.pending == 0
