"""One Bot API update, as either framework parsed it, turned into the core's event.

aiogram and python-telegram-bot model updates with the Bot API's own field names
(`message.from_user`, `callback_query.data`, `my_chat_member.new_chat_member.status`), so
one duck-typed translation serves both adapters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.conversation.actions import Action
from bot.conversation.events import EventKind, Incoming, Person

Handle = Callable[[Incoming], Awaitable[list[Action]]]  # the core, as the adapters call it
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]  # all `incoming` reads
UNDER_WAY_GRACE = 5.0  # seconds a stopping bot lets the updates being handled finish
# Updates from long polling handled at once; the next wait for a turn (a webhook's come as
# Telegram sends them). More would only wait for the database (8 PostgreSQL turns, one
# SQLite writer) while holding memory: aiogram with no limit held 8-9 MB more after 500
# members wrote at once (docs/benchmarks.md).
UPDATES_AT_ONCE = 64


def person(user: Any) -> Person:
    """The core's view of a Telegram user object."""
    return Person(
        id=user.id,
        first_name=user.first_name,
        username=user.username,
        language_code=user.language_code,
    )


def incoming(update: Any) -> Incoming | None:
    """The event an update carries, or None for updates the bot does not handle."""
    if update.callback_query is not None:
        query = update.callback_query
        message = query.message
        return Incoming(
            "callback",
            person(query.from_user),
            chat_id=message.chat.id if message else query.from_user.id,
            private=message is None or message.chat.type == "private",
            update_id=update.update_id,
            callback_id=query.id,
            callback_data=query.data,
            message_id=message.message_id if message else None,
        )
    if update.my_chat_member is not None:
        change = update.my_chat_member
        status = change.new_chat_member.status
        kinds: dict[str, EventKind] = {"kicked": "blocked", "member": "unblocked"}
        kind = kinds.get(status)
        if kind is None or change.chat.type != "private":
            return None
        return Incoming(
            kind, person(change.from_user), chat_id=change.chat.id, update_id=update.update_id
        )
    message = update.message
    if message is None or message.from_user is None:
        return None
    contact = message.contact
    return Incoming(
        "contact" if contact else "message",
        person(message.from_user),
        chat_id=message.chat.id,
        private=message.chat.type == "private",
        update_id=update.update_id,
        text=message.text or message.caption,
        message_id=message.message_id,
        contact_phone=contact.phone_number if contact else None,
        contact_user_id=contact.user_id if contact else None,
        html=formatted(message),
        photo_file_id=message.photo[-1].file_id if message.photo else None,
    )


def formatted(message: Any) -> str | None:
    """A text or caption with entities as HTML; None when it has no formatting.

    aiogram calls it `html_text` (text or caption); python-telegram-bot `text_html` and
    `caption_html`. Plain messages and commands, most updates, skip the conversion.
    """
    entities = message.entities or message.caption_entities or ()
    if all(entity.type == "bot_command" for entity in entities):
        return None
    if hasattr(message, "html_text"):
        return str(message.html_text)
    return str(message.text_html if message.text is not None else message.caption_html)
