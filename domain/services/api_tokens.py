"""Merchant API tokens: created once (the secret is shown once), checked, listed, revoked."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from domain.errors import Conflict, InvalidRequest, NotFound
from domain.models import ApiToken
from domain.ports import UnitOfWork

SCOPES = frozenset({"purchases", "members", "vouchers", "reports", "admin"})
TOKEN_PREFIX = "lb_"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def token_hash(secret: str) -> str:
    """What is stored of a token: its SHA-256, so a leaked database leaks no token."""
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_token(
    uow: UnitOfWork, name: str, scopes: frozenset[str], now: datetime, actor: str = "cli"
) -> tuple[str, ApiToken]:
    """A new token named `name` with `scopes`; the secret is returned here and never again."""
    if not _NAME.match(name):
        raise InvalidRequest("a token name is 1 to 64 of A-Z a-z 0-9 _ . -")
    unknown = scopes - SCOPES
    if not scopes or unknown:
        raise InvalidRequest(f"scopes must be some of {sorted(SCOPES)}, got {sorted(scopes)}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with uow:
        if await uow.api_tokens.by_name(name) is not None:
            raise Conflict(f"a token named {name!r} already exists")
        token = await uow.api_tokens.add(name, token_hash(secret), scopes, now)
        await uow.audit.add(now, actor, "token_created", {"name": name, "scopes": sorted(scopes)})
        return secret, token


async def authenticate(uow: UnitOfWork, secret: str) -> ApiToken | None:
    """The active token a client presented, or None."""
    async with uow:
        token = await uow.api_tokens.by_hash(token_hash(secret))
    return token if token is not None and token.revoked_at is None else None


async def list_tokens(uow: UnitOfWork) -> list[ApiToken]:
    """Every token, revoked ones included."""
    async with uow:
        return list(await uow.api_tokens.all())


async def revoke_token(uow: UnitOfWork, name: str, now: datetime, actor: str = "cli") -> None:
    """Revoke the active token called `name`; NotFound when there is none."""
    async with uow:
        if not await uow.api_tokens.revoke(name, now):
            raise NotFound("active token", name)
        await uow.audit.add(now, actor, "token_revoked", {"name": name})
