"""Every endpoint of the merchant API and each of its error answers."""

from __future__ import annotations

import asyncio

from domain.codes import format_code
from domain.services.api_tokens import revoke_token
from domain.services.points import adjust_points
from domain.services.rewards import redeem_reward
from storage.uow import SqlUnitOfWork
from tests.api.conftest import bearer
from tests.conftest import NOW
from tests.integration.helpers import new_member


def receipt(code: str, receipt_id: str = "R-1", **extra) -> dict:
    return {
        "receipt_id": receipt_id,
        "member": {"member_code": code},
        "items": [
            {"sku": "SNEAKER", "category": "shoes", "quantity": 1, "unit_price": "100.00"},
            {"sku": "LATTE", "category": "coffee", "quantity": 2, "unit_price": "4.50"},
            {"sku": "BEANS-1KG", "category": "coffee", "quantity": 1, "unit_price": "18.00"},
        ],
        **extra,
    }


async def test_a_purchase_then_its_retry_then_a_conflict(client, tokens, uow, program):
    member = await new_member(uow, program, 1)
    auth = bearer(tokens["purchases"])
    first = await client.post("/api/v1/purchases", json=receipt(member.code), headers=auth)
    assert first.status_code == 201
    body = first.json()
    assert (body["points_awarded"], body["tier_credits"], body["balance"]) == (252, 127, 302)
    again = await client.post("/api/v1/purchases", json=receipt(member.code), headers=auth)
    assert again.status_code == 200
    assert again.json() == body
    other = receipt(member.code)
    other["items"] = other["items"][:1]
    conflict = await client.post("/api/v1/purchases", json=other, headers=auth)
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "conflict"


async def test_twenty_concurrent_identical_requests_award_once(client, tokens, uow, program):
    member = await new_member(uow, program, 1)
    answers = await asyncio.gather(
        *[
            client.post(
                "/api/v1/purchases", json=receipt(member.code), headers=bearer(tokens["purchases"])
            )
            for _ in range(20)
        ]
    )
    assert sorted(a.status_code for a in answers) == [200] * 19 + [201]
    async with uow:
        assert await uow.ledger.balance(member.id) == 302


async def test_members_by_telegram_id_and_phone(client, tokens, uow, program):
    member = await new_member(uow, program, 7)
    by_id = receipt(member.code)
    by_id["member"] = {"telegram_id": 7}
    assert (
        await client.post("/api/v1/purchases", json=by_id, headers=bearer(tokens["purchases"]))
    ).status_code == 201
    nobody = receipt(member.code, "R-2")
    nobody["member"] = {"telegram_id": 999}
    missing = await client.post(
        "/api/v1/purchases", json=nobody, headers=bearer(tokens["purchases"])
    )
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


async def test_invalid_bodies_list_every_field_error(client, tokens):
    bad = {
        "receipt_id": "",
        "member": {"member_code": "A", "phone": "+1555"},
        "items": [{"sku": "X", "category": "c", "quantity": 0, "unit_price": "-1"}],
        "surprise": True,
    }
    answer = await client.post("/api/v1/purchases", json=bad, headers=bearer(tokens["purchases"]))
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "invalid"
    fields = " ".join(body["fields"])
    for where in ("receipt_id", "member", "items.0.quantity", "items.0.unit_price", "surprise"):
        assert where in fields, where


async def test_tokens_and_scopes(client, tokens, database):
    for headers in ({}, bearer("lb_wrong"), {"Authorization": "Basic abc"}):
        answer = await client.get("/api/v1/members/ABCD2345", headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"] == "unauthorized"
    wrong = await client.get("/api/v1/members/ABCD2345", headers=bearer(tokens["vouchers"]))
    assert wrong.status_code == 403
    assert wrong.json()["error"] == "forbidden"
    await revoke_token(SqlUnitOfWork(database), "t-members", NOW)
    revoked = await client.get("/api/v1/members/ABCD2345", headers=bearer(tokens["members"]))
    assert revoked.status_code == 401
    admin = await client.get("/api/v1/members/ABCD2345", headers=bearer(tokens["admin"]))
    assert admin.status_code == 404  # admin may do everything; the member does not exist


async def test_refunds(client, tokens, uow, program):
    member = await new_member(uow, program, 1)
    auth = bearer(tokens["purchases"])
    await client.post("/api/v1/purchases", json=receipt(member.code), headers=auth)
    part = await client.post(
        "/api/v1/refunds", json={"receipt_id": "R-1", "amount": "63.50"}, headers=auth
    )
    assert part.status_code == 200
    assert part.json()["points_clawed"] == 126  # floor(252 * 63.5 / 127)
    too_much = await client.post(
        "/api/v1/refunds", json={"receipt_id": "R-1", "amount": "63.51"}, headers=auth
    )
    assert too_much.status_code == 409
    assert too_much.json()["error"] == "refund_exceeds_receipt"
    unknown = await client.post(
        "/api/v1/refunds", json={"receipt_id": "R-9", "amount": "1"}, headers=auth
    )
    assert unknown.status_code == 404


async def test_member_summary_and_adjustments(client, tokens, uow, program):
    member = await new_member(uow, program, 1)
    summary = await client.get(
        f"/api/v1/members/{member.code.lower()}", headers=bearer(tokens["members"])
    )
    assert summary.status_code == 200
    assert summary.json()["balance"] == 50
    assert summary.json()["next_tier"] == "Insider"
    path = f"/api/v1/members/{member.code}/adjustments"
    denied = await client.post(
        path, json={"points": 10, "reason": "x"}, headers=bearer(tokens["members"])
    )
    assert denied.status_code == 403
    done = await client.post(
        path, json={"points": 25, "reason": "sorry for the wait"}, headers=bearer(tokens["admin"])
    )
    assert done.json() == {"member_code": format_code(member.code), "balance": 75}
    short = await client.post(
        path, json={"points": -100, "reason": "oops"}, headers=bearer(tokens["admin"])
    )
    assert short.status_code == 409
    assert short.json()["error"] == "insufficient_points"


async def test_vouchers_at_the_till(client, tokens, uow, program):
    member = await new_member(uow, program, 1)
    await adjust_points(
        uow, program, member_id=member.id, points=100, reason="gift", actor="test", now=NOW
    )
    voucher = (
        await redeem_reward(uow, program, member_id=member.id, reward_id="coffee", now=NOW)
    ).voucher
    auth = bearer(tokens["vouchers"])
    seen = await client.get(f"/api/v1/vouchers/{voucher.code}", headers=auth)
    assert seen.json()["state"] == "active"
    used = await client.post(f"/api/v1/vouchers/{voucher.code}/use", headers=auth)
    assert used.json()["state"] == "used"
    twice = await client.post(f"/api/v1/vouchers/{voucher.code}/use", headers=auth)
    assert twice.status_code == 409
    assert twice.json() == {
        "error": "used",
        "detail": f"voucher {format_code(voucher.code)} is used",
    }
    unknown = await client.get("/api/v1/vouchers/NOPE", headers=auth)
    assert unknown.status_code == 404


async def test_the_openapi_document_is_served(client):
    answer = await client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    assert "/api/v1/purchases" in answer.json()["paths"]


async def test_a_phone_without_a_member_is_held(client, tokens):
    body = receipt("unused", "H-1")
    body["member"] = {"phone": "+15550009999"}
    answer = await client.post("/api/v1/purchases", json=body, headers=bearer(tokens["purchases"]))
    assert answer.status_code == 202
    assert answer.json() == {"receipt_id": "H-1", "held_for_phone": "+15550009999"}
