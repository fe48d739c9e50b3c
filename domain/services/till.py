"""What a cashier types at the till, turned into the member it names."""

from __future__ import annotations

from domain.card_codes import CardCheck, is_card_code
from domain.codes import MEMBER_CODE_LENGTH, is_code, normalize_code
from domain.contact import normalize_phone
from domain.models import Member
from domain.ports import UnitOfWork
from domain.services.purchases import MemberRef, find_member


def typed_member(typed: str, card: CardCheck | None = None) -> MemberRef:
    """A member code when the text reads as one (or, checked by `card`, as the Mini App's
    signed card code), otherwise a phone number.

    Raises InvalidRequest when it is neither; CardCodeRefused (an InvalidRequest) for a
    card code that is forged or expired.
    """
    text = typed.strip()
    if card is not None and is_card_code(text):
        return MemberRef("member_code", card.read(text))
    code = normalize_code(text)
    if not text.startswith("+") and is_code(code, MEMBER_CODE_LENGTH):
        return MemberRef("member_code", code)
    return MemberRef("phone", normalize_phone(text))


async def member_at_till(uow: UnitOfWork, ref: MemberRef) -> Member | None:
    """The current member behind a reference; None for nobody or a forgotten member."""
    async with uow:
        member = await find_member(uow, ref)
    return member if member is not None and member.forgotten_at is None else None
