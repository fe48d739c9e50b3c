"""A till that scans the Mini App's card QR: the merchant API takes the signed card code
wherever it takes a member code, and refuses an expired or forged one (422)."""

from __future__ import annotations

from datetime import timedelta

import httpx

from bot.api.app import create_api
from bot.app import button_secret
from bot.web.site import WebSettings
from domain.card_codes import card_key, signed_card_code
from storage.uow import SqlUnitOfWork
from tests.api.conftest import bearer
from tests.conftest import NOW
from tests.integration.helpers import new_member

TOKEN = "123456:API-card-token"
WEB = WebSettings(TOKEN, card_key(button_secret(TOKEN)), card_qr_seconds=120)


async def test_card_codes_name_their_member_until_they_expire(database, program, tokens):
    member = await new_member(SqlUnitOfWork(database), program, 3001)
    api = create_api(
        lambda: SqlUnitOfWork(database),
        lambda: SqlUnitOfWork(database, read_only=True),
        program,
        lambda: NOW,
        web=WEB,
    )
    fresh = signed_card_code(member.code, NOW - timedelta(seconds=120), WEB.card_key)
    old = signed_card_code(member.code, NOW - timedelta(seconds=121), WEB.card_key)
    forged = signed_card_code(member.code, NOW, card_key(b"someone else"))
    headers = bearer(tokens["admin"])
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://till") as http:
        found = await http.get(f"/api/v1/members/{fresh}", headers=headers)
        assert found.status_code == 200
        assert found.json()["balance"] == 50
        receipt = {
            "receipt_id": "R-1",
            "member": {"member_code": fresh},
            "items": [{"sku": "X", "category": "coffee", "quantity": 1, "unit_price": "4.00"}],
        }
        bought = await http.post("/api/v1/purchases", json=receipt, headers=headers)
        assert bought.status_code == 201, bought.text
        assert bought.json()["member_code"] == f"{member.code[:4]}-{member.code[4:]}"
        for refused, problem in ((old, "expired"), (forged, "forged")):
            answer = await http.get(f"/api/v1/members/{refused}", headers=headers)
            assert answer.status_code == 422
            assert answer.json() == {"error": problem, "detail": f"the card code is {problem}"}
            late = {**receipt, "receipt_id": "R-2", "member": {"member_code": refused}}
            assert (
                await http.post("/api/v1/purchases", json=late, headers=headers)
            ).status_code == 422
