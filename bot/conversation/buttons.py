"""Inline button data: `action:arg:...:tag`, at most 64 bytes, signed for one person.

Button data comes back from the client, so it is never trusted: the tag binds it to the
person it was shown to, and a pressed button is refused unless the tag matches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.conversation.actions import Button
from bot.conversation.context import Context

MAX_DATA_BYTES = 64


@dataclass(frozen=True)
class Press:
    """A verified button press: what to do and its arguments."""

    action: str
    args: tuple[str, ...]


Signer = Callable[[int, str], str]  # (telegram id, payload) -> tag


def button(ctx: Context, telegram_id: int, text: str, action: str, *args: str) -> Button:
    """An inline button whose data only `telegram_id` can successfully press."""
    return signed_button(ctx.sign, telegram_id, text, action, *args)


def signed_button(sign: Signer, telegram_id: int, text: str, action: str, *args: str) -> Button:
    """`button` for callers without a handler's context (the outbox sender)."""
    payload = ":".join((action, *args))
    data = f"{payload}:{sign(telegram_id, payload)}"
    if len(data.encode()) > MAX_DATA_BYTES:
        raise ValueError(f"button data over {MAX_DATA_BYTES} bytes: {data!r}")
    return Button(text, data=data)


def read_press(ctx: Context, telegram_id: int, data: str | None) -> Press | None:
    """The press behind `data`, or None when it was forged, mangled or meant for someone else."""
    if not data or len(data.encode()) > MAX_DATA_BYTES or ":" not in data:
        return None
    payload, tag = data.rsplit(":", 1)
    if not ctx.verify(telegram_id, payload, tag):
        return None
    action, *args = payload.split(":")
    return Press(action, tuple(args))
