"""Who may use the staff commands: admins (from settings) and cashiers they add in chat.

A cashier joins through a one-time invite link an admin asks for; only the hash of the
invite's token is stored, and taking it is one conditional update, so it works once.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Literal

from domain.errors import InvalidRequest, NotFound
from domain.models import StaffMember
from domain.ports import UnitOfWork
from domain.services.api_tokens import token_hash

Role = Literal["admin", "staff"]

STAFF_PAYLOAD_PREFIX = "s-"
INVITE_LIFETIME = timedelta(hours=24)


def actor(telegram_id: int) -> str:
    """How the audit log names a person acting in chat."""
    return f"telegram:{telegram_id}"


async def role_of(uow: UnitOfWork, telegram_id: int, admins: frozenset[int]) -> Role | None:
    """An admin, an active cashier, or None for everyone else."""
    if telegram_id in admins:
        return "admin"
    async with uow:
        member = await uow.staff.get(telegram_id)
    return "staff" if member is not None and member.removed_at is None else None


async def invite_staff(uow: UnitOfWork, admin_id: int, now: datetime) -> str:
    """A new one-time invite; returns the `/start` payload that carries it."""
    token = secrets.token_urlsafe(18)
    async with uow:
        await uow.staff.add_invite(token_hash(token), admin_id, now, now + INVITE_LIFETIME)
        await uow.audit.add(
            now,
            actor(admin_id),
            "staff_invited",
            {"expires_at": (now + INVITE_LIFETIME).isoformat()},
        )
    return STAFF_PAYLOAD_PREFIX + token


def invite_token(payload: str) -> str | None:
    """The invite token in a `/start` payload, or None when it is not a staff invite."""
    if not payload.startswith(STAFF_PAYLOAD_PREFIX):
        return None
    return payload.removeprefix(STAFF_PAYLOAD_PREFIX) or None


async def accept_staff_invite(
    uow: UnitOfWork, token: str, telegram_id: int, name: str, now: datetime
) -> StaffMember:
    """Make the person a cashier; an unknown, used or expired invite is refused.

    Someone who already is a cashier keeps their place and leaves the invite unused.
    """
    async with uow:
        current = await uow.staff.get(telegram_id)
        if current is not None and current.removed_at is None:
            return current
        admin_id = await uow.staff.take_invite(token_hash(token), telegram_id, now)
        if admin_id is None:
            raise InvalidRequest("staff invite unknown, used or expired")
        member = StaffMember(telegram_id, name[:128], admin_id, now, None)
        await uow.staff.put(member)
        await uow.audit.add(
            now,
            actor(telegram_id),
            "staff_added",
            {"telegram_id": telegram_id, "name": member.name, "invited_by": admin_id},
        )
        return member


async def list_staff(uow: UnitOfWork) -> list[StaffMember]:
    """Active cashiers, longest-serving first."""
    async with uow:
        return list(await uow.staff.active())


async def remove_staff(
    uow: UnitOfWork, admin_id: int, telegram_id: int, now: datetime
) -> StaffMember:
    """Take a cashier's staff commands away; NotFound when they are not an active cashier."""
    async with uow:
        member = await uow.staff.get(telegram_id)
        if member is None or not await uow.staff.remove(telegram_id, now):
            raise NotFound("staff member", telegram_id)
        await uow.audit.add(
            now, actor(admin_id), "staff_removed", {"telegram_id": telegram_id, "name": member.name}
        )
        return member
