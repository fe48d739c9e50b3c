"""Member and voucher codes: answered in groups of four, taken in any spelling."""

from __future__ import annotations

import re

from domain.services.points import adjust_points
from domain.services.rewards import redeem_reward
from tests.api.conftest import bearer
from tests.conftest import NOW
from tests.integration.helpers import new_member

SHOWN = re.compile(r"[0-9A-Z]{4}(-[0-9A-Z]{4})+")


def spellings(code: str) -> list[str]:
    """How a cashier may type a code: plain, lower case, dashed, spaced."""
    dashed = "-".join(code[i : i + 4] for i in range(0, len(code), 4))
    return [code, code.lower(), dashed, dashed.lower(), dashed.replace("-", " ")]


async def test_member_codes_in_answers_and_in_any_spelling(client, tokens, uow, program):
    member = await new_member(uow, program, 1)
    shown = "-".join((member.code[:4], member.code[4:]))
    for n, spelling in enumerate(spellings(member.code)):
        receipt = {
            "receipt_id": f"R-{n}",
            "member": {"member_code": spelling},
            "items": [{"sku": "LATTE", "category": "coffee", "quantity": 1, "unit_price": "4.50"}],
        }
        recorded = await client.post(
            "/api/v1/purchases", json=receipt, headers=bearer(tokens["purchases"])
        )
        assert recorded.status_code == 201, (spelling, recorded.text)
        assert recorded.json()["member_code"] == shown
        replayed = await client.post(
            "/api/v1/purchases", json=receipt, headers=bearer(tokens["purchases"])
        )
        assert replayed.json()["member_code"] == shown  # the stored answer, shown the same
        read = await client.get(f"/api/v1/members/{spelling}", headers=bearer(tokens["members"]))
        assert read.json()["member_code"] == shown
        adjusted = await client.post(
            f"/api/v1/members/{spelling}/adjustments",
            json={"points": 1, "reason": "thanks"},
            headers=bearer(tokens["admin"]),
        )
        assert adjusted.json()["member_code"] == shown


async def test_voucher_codes_in_answers_and_in_any_spelling(client, tokens, uow, program):
    member = await new_member(uow, program, 1)
    await adjust_points(
        uow, program, member_id=member.id, points=100, reason="gift", actor="test", now=NOW
    )
    voucher = (
        await redeem_reward(uow, program, member_id=member.id, reward_id="coffee", now=NOW)
    ).voucher
    auth = bearer(tokens["vouchers"])
    for spelling in spellings(voucher.code):
        seen = await client.get(f"/api/v1/vouchers/{spelling}", headers=auth)
        assert seen.status_code == 200, spelling
        assert SHOWN.fullmatch(seen.json()["code"])
        assert seen.json()["code"].replace("-", "") == voucher.code
    used = await client.post(f"/api/v1/vouchers/{spellings(voucher.code)[3]}/use", headers=auth)
    assert used.json()["code"] == seen.json()["code"]
    twice = await client.post(f"/api/v1/vouchers/{voucher.code.lower()}/use", headers=auth)
    assert seen.json()["code"] in twice.json()["detail"]
