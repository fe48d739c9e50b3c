"""What a Telegram adapter is asked to do: send a message or a photo, edit a message, answer
a button press, set a chat's `/` menu. The conversation core returns them and the outbox
sender (bot/delivery) builds them too; only the adapters (bot/telegram) make Bot API calls.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    """An inline button: callback data (at most 64 bytes), a URL, or a Mini App's URL
    (`web_app`: Telegram opens it inside the chat, signed in)."""

    text: str
    data: str | None = None
    url: str | None = None
    web_app: str | None = None


@dataclass(frozen=True)
class Keyboard:
    """A reply keyboard under the input field; `contact` asks for the phone number."""

    rows: tuple[tuple[str, ...], ...]
    contact_button: str | None = None


@dataclass(frozen=True)
class Send:
    """A new message (HTML), with a photo when `photo` is set (the text is its caption)."""

    chat_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    keyboard: Keyboard | None = None
    photo: bytes | str | None = None  # bytes to upload, or a file_id or URL
    paid: bool = False  # allow_paid_broadcast: up to 1000 messages/s, billed in Stars


@dataclass(frozen=True)
class Edit:
    """Replace the text and buttons of a message the bot sent."""

    chat_id: int
    message_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class Answer:
    """Answer a button press (stops its spinner), optionally with a short notice."""

    callback_id: str
    text: str | None = None
    alert: bool = False


@dataclass(frozen=True)
class Menu:
    """The `/` command menu of one chat (name, description); empty: back to the default,
    the chat's menu button too. `app` (label, URL): the chat's menu button opens that Mini
    App (a staff member's scanner)."""

    chat_id: int
    commands: tuple[tuple[str, str], ...]
    app: tuple[str, str] | None = None


Action = Send | Edit | Answer | Menu
