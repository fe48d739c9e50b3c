"""Telegram's `initData`, checked as Telegram specifies: the one proof of who opened a Mini App.

The page sends the raw `initData` string with every request (header `X-Telegram-Init-Data`);
`initDataUnsafe` is never trusted. The data is genuine when
`hex(HMAC_SHA256(key=HMAC_SHA256(key="WebAppData", msg=bot_token), msg=check_string))`
equals its `hash` (compared in constant time), where `check_string` is every other field,
URL-decoded, as `key=value` sorted by key and joined by newlines; and it is fresh when its
`auth_date` is at most `max_age` seconds old. Anything else is refused with 401.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

INIT_DATA_HEADER = "X-Telegram-Init-Data"
MAX_INIT_DATA = 4096  # Telegram's initData is well under 1 KiB; longer is not Telegram's
CLOCK_SKEW = 60  # seconds an auth_date may be ahead of our clock (the phone's clock is not ours)


class InitDataRefused(Exception):
    """The initData is missing, malformed, not signed with this bot's token, or too old."""


@dataclass(frozen=True)
class WebAppUser:
    """The Telegram user who opened the Mini App, as the signed initData names them."""

    id: int
    first_name: str | None
    language_code: str | None
    auth_date: int


def secret_key(bot_token: str) -> bytes:
    """HMAC_SHA256(key="WebAppData", msg=bot_token): the key initData is signed with."""
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """`fields` as an initData query string with its hash, signed as Telegram signs it
    (for tests and the local emulator: nothing else may mint initData)."""
    digest = hmac.new(secret_key(bot_token), _check_string(fields).encode(), hashlib.sha256)
    return urlencode({**fields, "hash": digest.hexdigest()})


def check_init_data(init_data: str, bot_token: str, now: datetime, max_age: int) -> WebAppUser:
    """The user of genuine, fresh initData; InitDataRefused with the reason otherwise."""
    if not init_data or len(init_data) > MAX_INIT_DATA:
        raise InitDataRefused("initData is missing or too long")
    pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=False)
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataRefused("initData repeats a field")
    given = fields.pop("hash", "")
    expected = hmac.new(secret_key(bot_token), _check_string(fields).encode(), hashlib.sha256)
    if not hmac.compare_digest(expected.hexdigest().encode(), given.lower().encode()):
        raise InitDataRefused("initData is not signed by this bot")
    return _fresh_user(fields, now, max_age)


def _check_string(fields: dict[str, str]) -> str:
    """The data-check-string: `key=value` of every field but `hash`, sorted, one a line."""
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def _fresh_user(fields: dict[str, str], now: datetime, max_age: int) -> WebAppUser:
    """The signed user, once auth_date is within `max_age` seconds of `now`."""
    auth_date = fields.get("auth_date", "")
    if not auth_date.isdigit():
        raise InitDataRefused("initData has no auth_date")
    age = now.timestamp() - int(auth_date)
    if age > max_age or age < -CLOCK_SKEW:
        raise InitDataRefused("initData has expired")
    try:
        user = json.loads(fields.get("user", ""))
        user_id = user["id"]
    except (ValueError, TypeError, KeyError):
        raise InitDataRefused("initData names no user") from None
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise InitDataRefused("initData names no user")
    return WebAppUser(
        id=user_id,
        first_name=_text(user.get("first_name")),
        language_code=_text(user.get("language_code")),
        auth_date=int(auth_date),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
