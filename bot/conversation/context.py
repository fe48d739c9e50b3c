"""What handlers need from the outside world, passed in by the composition root."""

from __future__ import annotations

import hashlib
import hmac
from base64 import urlsafe_b64encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.conversation.channels import ChannelLookup
from domain.card_codes import CardCheck, card_key
from domain.ports import UnitOfWork
from domain.program import Program


@dataclass(frozen=True)
class Context:
    """The program, unit-of-work factories (write, read-only), the clock, the bot, the admins,
    how to ask Telegram who is in a channel (None: it cannot be asked), and the Mini App."""

    program: Program
    writer: Callable[[], UnitOfWork]
    reader: Callable[[], UnitOfWork]
    clock: Callable[[], datetime]
    bot_username: str
    secret: bytes
    admins: frozenset[int] = frozenset()
    channels: ChannelLookup | None = None
    web_url: str | None = None  # WEB_URL: the public base of the web pages (bot.web)
    card_qr_seconds: int = 120  # how long the Mini App's card codes are accepted at the till

    def sign(self, telegram_id: int, payload: str) -> str:
        """A short tag binding button data to one person, so a forged press is refused."""
        return sign(self.secret, telegram_id, payload)

    def card_check(self) -> CardCheck:
        """How the till reads the Mini App's signed card codes now."""
        return CardCheck(card_key(self.secret), self.clock(), self.card_qr_seconds)

    def verify(self, telegram_id: int, payload: str, tag: str) -> bool:
        """Whether `tag` is this person's signature of `payload`."""
        return hmac.compare_digest(self.sign(telegram_id, payload), tag)


def sign(secret: bytes, telegram_id: int, payload: str) -> str:
    """The tag of `payload` for `telegram_id` under `secret` (also used by the outbox sender)."""
    digest = hmac.new(secret, f"{telegram_id}|{payload}".encode(), hashlib.sha256)
    return urlsafe_b64encode(digest.digest()[:6]).decode()
