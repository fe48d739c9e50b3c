"""A receipt for a phone no member has is held, then credited when someone shares that phone."""

from __future__ import annotations

import pytest

from domain.errors import Conflict, DuplicateKey
from domain.services.notifications import pending_notifications
from domain.services.phones import share_phone
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase
from storage.checks import check_invariants
from tests.conftest import NOW
from tests.integration.helpers import balance, line, new_member

PHONE = "+15550001234"


async def till(uow, program, receipt: str, *lines):
    return await record_purchase(
        uow,
        program,
        ReceiptIn(receipt, MemberRef("phone", "+1 555 000 1234"), list(lines)),
        now=NOW,
    )


async def test_held_then_credited_when_the_phone_is_shared(uow, program, database):
    held = await till(uow, program, "R-1", line("LATTE", "coffee", 2, "4.50"))
    assert held.held
    assert held.points == 0
    assert held.answer == {"receipt_id": "R-1", "held_for_phone": PHONE}
    again = await till(uow, program, "R-1", line("LATTE", "coffee", 2, "4.50"))
    assert again.held
    assert again.replayed
    with pytest.raises(Conflict):
        await till(uow, program, "R-1", line("LATTE", "coffee", 3, "4.50"))
    await till(uow, program, "R-2", line("SNEAKER", "shoes", 1, "100.00"))

    member = await new_member(uow, program, 1)
    shared = await share_phone(uow, program, member_id=member.id, phone="15550001234", now=NOW)
    assert [o.answer["receipt_id"] for o in shared.credited] == ["R-1", "R-2"]
    assert shared.points == 14 + 205
    assert await balance(uow, member) == 50 + 14 + 205
    kinds = [n.template for n in await pending_notifications(uow)]
    assert kinds == ["points_earned", "points_earned"]
    replay = await till(uow, program, "R-1", line("LATTE", "coffee", 2, "4.50"))
    assert replay.replayed
    assert not replay.held
    assert replay.points == 14
    shared_again = await share_phone(uow, program, member_id=member.id, phone=PHONE, now=NOW)
    assert shared_again.credited == []
    assert await check_invariants(database) == []


async def test_a_phone_belongs_to_one_member(uow, program):
    first, second = await new_member(uow, program, 1), await new_member(uow, program, 2)
    await share_phone(uow, program, member_id=first.id, phone=PHONE, now=NOW)
    with pytest.raises(DuplicateKey):
        await share_phone(uow, program, member_id=second.id, phone=PHONE, now=NOW)
