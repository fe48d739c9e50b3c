"""What a person did, as the core sees it, whichever framework received it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EventKind = Literal["message", "callback", "contact", "blocked", "unblocked", "other"]


@dataclass(frozen=True)
class Person:
    """The Telegram user behind an event."""

    id: int
    first_name: str | None = None
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class Incoming:
    """One update: a message, a button press, a shared contact, or a block/unblock."""

    kind: EventKind
    person: Person
    chat_id: int
    private: bool = True
    update_id: int | None = None
    text: str | None = None
    callback_id: str | None = None
    callback_data: str | None = None
    message_id: int | None = None
    contact_phone: str | None = None
    contact_user_id: int | None = None
    html: str | None = None  # the text or caption with its formatting, when it has some
    photo_file_id: str | None = None  # the largest size of a photo sent (text is its caption)

    @property
    def command(self) -> str | None:
        """The command without slash or bot mention ('/start@bot x' -> 'start'), if any."""
        if not self.text or not self.text.startswith("/"):
            return None
        return self.text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()

    @property
    def args(self) -> str:
        """What follows the command ('' when nothing does)."""
        parts = (self.text or "").split(maxsplit=1)
        return parts[1].strip() if len(parts) == 2 else ""
