"""The short-lived code of a member's card in the Mini App: the member code, the moment it
was made and a signature, so a screenshot passed around stops working after a while.

It reads `K7M2Q9XR.1767225600.3F9A0C27B1D4E856`: the plain member code, Unix seconds, and
the first 64 bits of HMAC-SHA256 over both (hex), under a key only the bot knows. Staff
accept it wherever they accept a member code; the chat's /card keeps the plain code.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from domain.codes import MEMBER_CODE_LENGTH, is_code, normalize_code
from domain.errors import InvalidRequest

SEPARATOR = "."
SIGNATURE_HEX = 16  # 64 bits: a forged code must be guessed at the till, one try at a time
CLOCK_SKEW = 30  # seconds a code may seem to come from the future (two clocks of one server)


class CardCodeRefused(InvalidRequest):
    """A card code that is forged (`reason` "forged") or too old ("expired")."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the card code is {reason}")
        self.reason = reason


@dataclass(frozen=True)
class CardCheck:
    """What reading a card code at the till needs: the key, the time, how long codes live."""

    key: bytes
    now: datetime
    valid_seconds: int

    def read(self, text: str) -> str:
        """The plain member code of `text`; CardCodeRefused when forged or expired."""
        return read_card_code(text, self.key, self.now, self.valid_seconds)


def card_key(secret: bytes) -> bytes:
    """The key card codes are signed with, derived from the bot's own secret."""
    return hmac.new(secret, b"member card codes", hashlib.sha256).digest()


def signed_card_code(code: str, made_at: datetime, key: bytes) -> str:
    """The member code `code` signed at `made_at`."""
    plain = normalize_code(code)
    stamp = str(int(made_at.timestamp()))
    return SEPARATOR.join((plain, stamp, _signature(plain, stamp, key)))


def is_card_code(text: str) -> bool:
    """Whether `text` has the shape of a signed card code (signed or not by us)."""
    parts = text.strip().split(SEPARATOR)
    return len(parts) == 3 and is_code(normalize_code(parts[0]), MEMBER_CODE_LENGTH)


def read_card_code(text: str, key: bytes, now: datetime, valid_seconds: int) -> str:
    """The plain member code of a genuine card code made within `valid_seconds` of `now`;
    CardCodeRefused otherwise."""
    parts = text.strip().split(SEPARATOR)
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 12:
        raise CardCodeRefused("forged")
    plain, stamp, given = normalize_code(parts[0]), parts[1], parts[2].upper()
    if not hmac.compare_digest(_signature(plain, stamp, key).encode(), given.encode()):
        raise CardCodeRefused("forged")
    age = now.timestamp() - int(stamp)
    if age > valid_seconds or age < -CLOCK_SKEW:
        raise CardCodeRefused("expired")
    return plain


def _signature(plain: str, stamp: str, key: bytes) -> str:
    digest = hmac.new(key, f"{plain}{SEPARATOR}{stamp}".encode(), hashlib.sha256).hexdigest()
    return digest[:SIGNATURE_HEX].upper()
