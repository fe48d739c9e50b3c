"""What handlers need from the outside world, passed in by the composition root."""

from __future__ import annotations

import hashlib
import hmac
from base64 import urlsafe_b64encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.conversation.channels import ChannelLookup
from domain.ports import UnitOfWork
from domain.program import Program


@dataclass(frozen=True)
class Context:
    """The program, unit-of-work factories (write, read-only), the clock, the bot, the admins,
    and how to ask Telegram who is in a channel (None: it cannot be asked)."""

    program: Program
    writer: Callable[[], UnitOfWork]
    reader: Callable[[], UnitOfWork]
    clock: Callable[[], datetime]
    bot_username: str
    secret: bytes
    admins: frozenset[int] = frozenset()
    channels: ChannelLookup | None = None

    def sign(self, telegram_id: int, payload: str) -> str:
        """A short tag binding button data to one person, so a forged press is refused."""
        return sign(self.secret, telegram_id, payload)

    def verify(self, telegram_id: int, payload: str, tag: str) -> bool:
        """Whether `tag` is this person's signature of `payload`."""
        return hmac.compare_digest(self.sign(telegram_id, payload), tag)


def sign(secret: bytes, telegram_id: int, payload: str) -> str:
    """The tag of `payload` for `telegram_id` under `secret` (also used by the outbox sender)."""
    digest = hmac.new(secret, f"{telegram_id}|{payload}".encode(), hashlib.sha256)
    return urlsafe_b64encode(digest.digest()[:6]).decode()
