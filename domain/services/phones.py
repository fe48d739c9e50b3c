"""A member shares their phone: it is stored, and receipts held for it are credited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.contact import normalize_phone
from domain.errors import NotFound
from domain.ports import UnitOfWork
from domain.program import Program
from domain.services.purchases import PurchaseOutcome, credit_held


@dataclass(frozen=True)
class PhoneShared:
    """The phone as stored, and the held receipts it brought in."""

    phone: str
    credited: list[PurchaseOutcome]

    @property
    def points(self) -> int:
        """Points the held receipts awarded."""
        return sum(outcome.points for outcome in self.credited)


async def share_phone(
    uow: UnitOfWork, program: Program, *, member_id: int, phone: str, now: datetime
) -> PhoneShared:
    """Store the member's phone and credit what tills recorded for it, in one transaction.

    A phone that belongs to another member raises DuplicateKey; a malformed one,
    InvalidRequest.
    """
    number = normalize_phone(phone)
    async with uow:
        member = await uow.members.lock(member_id)
        if member is None or member.forgotten_at is not None:
            raise NotFound("member", member_id)
        await uow.members.update_profile(member_id, phone=number)
        return PhoneShared(number, await credit_held(uow, program, member_id, number, now))
