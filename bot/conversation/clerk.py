"""A person using the staff commands: their Telegram id, role and language."""

from __future__ import annotations

from dataclasses import dataclass

from domain.services.staff import Role


@dataclass(frozen=True)
class Clerk:
    """An admin or cashier, as the staff handlers see them."""

    telegram_id: int
    role: Role
    locale: str
