"""The dashboard's session cookie and CSRF tokens: small pure functions over one key.

The cookie holds `telegram_id.expires.locale.nonce.tag`, where the tag is an HMAC of the rest, so
it cannot be forged or stretched; it is checked on every request (and the person must
still be an admin). A form's CSRF token is an HMAC of the session's nonce: a page of this
site can put it in a form, another site cannot read it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

COOKIE = "dashboard_session"
SESSION_SECONDS = 8 * 3600


def session_key(bot_token: str) -> bytes:
    """The key that signs sessions and CSRF tokens, derived from the bot token (never stored)."""
    return hmac.new(b"loyalty-bot dashboard", bot_token.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Session:
    """A signed-in admin: who, until when (Unix seconds), their language, and the nonce
    their forms carry."""

    telegram_id: int
    expires: int
    locale: str
    nonce: str


def new_session(telegram_id: int, locale: str, now: int) -> Session:
    """A session of SESSION_SECONDS from `now` (Unix seconds), with a fresh nonce."""
    return Session(telegram_id, now + SESSION_SECONDS, locale, secrets.token_hex(12))


def cookie_value(key: bytes, session: Session) -> str:
    """The session as the cookie stores it, signed."""
    body = f"{session.telegram_id}.{session.expires}.{session.locale}.{session.nonce}"
    return f"{body}.{_tag(key, 'session', body)}"


def read_session(key: bytes, value: str, now: int) -> Session | None:
    """The session a cookie holds, or None when it is malformed, forged or expired."""
    body, _, tag = value.rpartition(".")
    parts = body.split(".")
    if len(parts) != 4 or not hmac.compare_digest(tag, _tag(key, "session", body)):
        return None
    telegram_id, expires, locale, nonce = parts
    if not (telegram_id.isdigit() and expires.isdigit()) or int(expires) <= now:
        return None
    return Session(int(telegram_id), int(expires), locale, nonce)


def csrf_token(key: bytes, session: Session) -> str:
    """The token every form of this session carries."""
    return _tag(key, "csrf", session.nonce)


def csrf_ok(key: bytes, session: Session, token: str) -> bool:
    """Whether a form's token is this session's (constant-time)."""
    return hmac.compare_digest(token.encode(), csrf_token(key, session).encode())


def _tag(key: bytes, purpose: str, text: str) -> str:
    return hmac.new(key, f"{purpose}|{text}".encode(), hashlib.sha256).hexdigest()
