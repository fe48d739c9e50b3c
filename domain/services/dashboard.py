"""The merchant dashboard's own use cases: one-time login links, and finding members.

A login link carries a random token and its signature (HMAC-SHA256 under a key only the
bot knows, so a made-up link is refused before the database is asked); only the token's
hash is stored, and taking it is one conditional update (unused, unexpired), so a link
signs in once and a copy of it fails.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from contextlib import suppress
from datetime import datetime, timedelta

from domain.codes import MEMBER_CODE_LENGTH, is_code, normalize_code
from domain.contact import normalize_phone
from domain.errors import InvalidRequest
from domain.models import Member
from domain.ports import UnitOfWork
from domain.receipts import MemberKey
from domain.services.api_tokens import token_hash
from domain.services.staff import actor

LOGIN_LIFETIME = timedelta(minutes=5)
SEARCH_LIMIT = 20
SIGNATURE_HEX = 16  # 64 bits, beside a 192-bit random token
SEPARATOR = "."  # not in a url-safe token


def login_key(code_key: bytes) -> bytes:
    """The key login links are signed with, derived from the bot's key for signed codes
    (domain.card_codes.card_key), which the chat and the web pages both hold."""
    return hmac.new(code_key, b"dashboard login links", hashlib.sha256).digest()


async def issue_login(uow: UnitOfWork, telegram_id: int, now: datetime, key: bytes) -> str:
    """A new signed one-time login token for an admin, valid LOGIN_LIFETIME."""
    token = secrets.token_urlsafe(24)
    async with uow:
        await uow.staff.add_login(token_hash(token), telegram_id, now, now + LOGIN_LIFETIME)
    return f"{token}{SEPARATOR}{_signature(key, token)}"


async def take_login(uow: UnitOfWork, signed: str, now: datetime, key: bytes) -> int:
    """The admin a signed login token was made for, using it up; InvalidRequest when it is
    forged, unknown, used or expired."""
    token, _, signature = signed.rpartition(SEPARATOR)
    if not token or not hmac.compare_digest(signature.encode(), _signature(key, token).encode()):
        raise InvalidRequest("login link forged")
    async with uow:
        telegram_id = await uow.staff.take_login(token_hash(token), now)
        if telegram_id is None:
            raise InvalidRequest("login link unknown, used or expired")
        await uow.audit.add(now, actor(telegram_id), "dashboard_login", {})
    return telegram_id


async def search_members(uow: UnitOfWork, typed: str, limit: int = SEARCH_LIMIT) -> list[Member]:
    """Members a search names: a member code or a phone exactly, otherwise a part of the
    first name (any case). Forgotten members are never found."""
    text = typed.strip()[:64]
    if not text:
        return []
    keys: list[MemberKey] = []
    code = normalize_code(text)
    if is_code(code, MEMBER_CODE_LENGTH):
        keys.append(("member_code", code))
    if sum(c.isdigit() for c in text) >= 6:
        with suppress(InvalidRequest):  # digits that make no phone number: a name search
            keys.append(("phone", normalize_phone(text)))
    async with uow:
        exact = await uow.members.named(keys) if keys else []
        named = await uow.members.search(text, limit)
    found = {m.id: m for m in [*exact, *named] if m.forgotten_at is None}
    return list(found.values())[:limit]


def _signature(key: bytes, token: str) -> str:
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()[:SIGNATURE_HEX]
