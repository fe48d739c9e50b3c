"""Stamp cards and a round-up in the merchant API's purchase answer, on both databases."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.codes import format_code
from domain.program import StampCard
from domain.services.round_ups import choose_round_up
from tests.api.conftest import api_client, bearer
from tests.api.test_merchant_api import receipt
from tests.conftest import NOW
from tests.integration.helpers import new_member

CARD = StampCard(
    id="coffee-card", title="Coffee card", count=3, reward="coffee", categories=("coffee",)
)


@pytest.fixture
async def stamping(database, program):
    async with api_client(database, replace(program, stamps=(CARD,))) as http:
        yield http


async def test_the_answer_shows_the_voucher_and_the_round_up(stamping, tokens, uow, program):
    member = await new_member(uow, program, 1)
    await choose_round_up(uow, program, member_id=member.id, cause_id="trees", now=NOW)
    auth = bearer(tokens["purchases"])
    answer = await stamping.post("/api/v1/purchases", json=receipt(member.code), headers=auth)
    assert answer.status_code == 201
    body = answer.json()
    # 252 points (shoes 200, coffee 27, beans 20, visit 5): 250 kept, 2 to the trees
    assert (body["points_awarded"], body["balance"]) == (252, 50 + 250)
    assert body["round_up"] == {"cause": "trees", "kept": 250, "donated": 2}
    # 2 lattes and a bag of beans: 3 coffee units fill the card of 3 exactly
    [card] = body["stamps"]
    assert (card["card"], card["earned"], card["stamps"], card["count"]) == ("coffee-card", 3, 0, 3)
    [voucher] = card["vouchers"]
    assert voucher["reward"] == "coffee"
    assert voucher["expires_on"] == "2026-04-01"  # 30 days on, the day in New York
    assert voucher["code"] == format_code(voucher["code"])  # in groups of four, as the API says
    checked = await stamping.get(
        f"/api/v1/vouchers/{voucher['code']}", headers=bearer(tokens["vouchers"])
    )
    assert checked.status_code == 200
    again = await stamping.post("/api/v1/purchases", json=receipt(member.code), headers=auth)
    assert again.status_code == 200
    assert again.json() == body
    refund = await stamping.post(
        "/api/v1/refunds", json={"receipt_id": "R-1", "amount": "27.00"}, headers=auth
    )
    assert refund.json()["points_clawed"] == 53  # floor(250 kept x 27 / 127)
