"""Recognising a person who was forgotten and comes back, without keeping who they were.

Forgetting erases a member's Telegram id with the rest of their personal data, but a
person who could forget and `/start` again would get the signup bonus (and an invitee
bonus) each time. So only a keyed hash of the forgotten Telegram id is kept: HMAC-SHA256
with a random key made once per installation and stored in its own table.

Why a key: Telegram user ids are integers below about 10^10, so a plain SHA-256 of one is
reversed by hashing every possible id (minutes on a laptop). Without the key, which never
leaves the database, the hash says nothing; and the id itself is never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from domain.models import ForgottenPerson, Member
from domain.ports import UnitOfWork

KEY_BYTES = 32


def new_key() -> bytes:
    """A fresh random key for an installation that has none yet."""
    return secrets.token_bytes(KEY_BYTES)


def telegram_hash(key: bytes, telegram_id: int) -> str:
    """The keyed hash (HMAC-SHA256, hex) a forgotten Telegram id is kept as."""
    return hmac.new(key, str(telegram_id).encode(), hashlib.sha256).hexdigest()


async def returning_person(uow: UnitOfWork, telegram_id: int | None) -> ForgottenPerson | None:
    """The record of a forgotten member with this Telegram id, inside the caller's
    transaction; None when there is none (or when nobody was ever forgotten here)."""
    if telegram_id is None:
        return None
    key = await uow.members.forget_key()
    if key is None:
        return None
    return await uow.members.forgotten(telegram_hash(key, telegram_id))


async def remember_forgotten(uow: UnitOfWork, member: Member, now: datetime) -> None:
    """Keep, inside the caller's transaction, the keyed hash of a member being forgotten,
    with every friend of theirs who qualified (those of earlier accounts too)."""
    if member.telegram_id is None:
        return
    key = await uow.members.forget_key()
    if key is None:
        key = await uow.members.keep_forget_key(new_key(), now)
    fingerprint = telegram_hash(key, member.telegram_id)
    before = await uow.members.forgotten(fingerprint)
    rewarded = await uow.referrals.count(member.id, "rewarded")
    await uow.members.remember_forgotten(
        ForgottenPerson(fingerprint, now, rewarded + (before.referrals_rewarded if before else 0))
    )
