"""Every merchant action lands in the audit log, in the same transaction as the action."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from domain.errors import InsufficientPoints
from domain.services.api_tokens import create_token, revoke_token
from domain.services.audit import audit_log
from domain.services.points import adjust_points
from domain.services.purchases import refund_purchase
from domain.services.rewards import redeem_reward, use_voucher
from tests.conftest import NOW
from tests.integration.helpers import buy, line, new_member


async def test_merchant_actions_are_audited(uow, program):
    member = await new_member(uow, program, 1)
    await adjust_points(
        uow, program, member_id=member.id, points=200, reason="apology", actor="admin:42", now=NOW
    )
    with pytest.raises(InsufficientPoints):  # refused: nothing happened, nothing audited
        await adjust_points(
            uow, program, member_id=member.id, points=-9999, reason="x", actor="admin:42", now=NOW
        )
    await buy(uow, program, member, "R-1", line("X", "coffee", 1, "10"))
    await refund_purchase(
        uow,
        program,
        merchant="main",
        receipt_id="R-1",
        amount=Decimal("10"),
        now=NOW,
        actor="api:till-1",
    )
    voucher = (
        await redeem_reward(uow, program, member_id=member.id, reward_id="coffee", now=NOW)
    ).voucher
    await use_voucher(uow, code=voucher.code, actor="staff:7", now=NOW)
    await create_token(uow, "till-2", frozenset({"purchases"}), NOW, actor="cli")
    await revoke_token(uow, "till-2", NOW + timedelta(hours=1), actor="cli")
    entries = await audit_log(uow)
    assert [(e.actor, e.action) for e in entries] == [
        ("admin:42", "adjustment"),
        ("api:till-1", "refund"),
        ("staff:7", "voucher_used"),
        ("cli", "token_created"),
        ("cli", "token_revoked"),
    ]
    assert entries[0].details == {
        "member_id": member.id,
        "points": 200,
        "reason": "apology",
        "balance": 250,
    }
    assert entries[1].details["points_clawed"] == 15
    later = await audit_log(uow, since=NOW + timedelta(minutes=30))
    assert [e.action for e in later] == ["token_revoked"]
