"""The merchant dashboard's own use cases: one-time login links, and finding members.

A login link carries a random token; only its hash is stored, and taking it is one
conditional update (unused, unexpired), so a link signs in once and a copy of it fails.
"""

from __future__ import annotations

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


async def issue_login(uow: UnitOfWork, telegram_id: int, now: datetime) -> str:
    """A new one-time login token for an admin, valid LOGIN_LIFETIME."""
    token = secrets.token_urlsafe(24)
    async with uow:
        await uow.staff.add_login(token_hash(token), telegram_id, now, now + LOGIN_LIFETIME)
    return token


async def take_login(uow: UnitOfWork, token: str, now: datetime) -> int:
    """The admin a login token was made for, using it up; InvalidRequest when it is
    unknown, used or expired."""
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
