"""A promotion in the merchant API's purchase answer, on both databases. The clock is Monday
2 March 2026, 15:30 UTC: 10:30 in New York, the program's time zone (EST, UTC-5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from decimal import Decimal

import pytest

from domain.program import Promotion
from tests.api.conftest import api_client, bearer
from tests.api.test_merchant_api import receipt
from tests.integration.helpers import new_member

MORNING = Promotion(  # Mondays 09:00-12:00: coffee x2 and 10 points a receipt
    id="monday-coffee",
    title="Monday coffee",
    starts=datetime(2026, 3, 1),
    ends=datetime(2026, 4, 1),
    weekdays=(0,),
    hours=(time(9), time(12)),
    categories=("coffee",),
    multiplier=Decimal(2),
    bonus=10,
)


@pytest.fixture
async def promoted(database, program):
    async with api_client(database, replace(program, promotions=(MORNING,))) as http:
        yield http


async def test_the_answer_has_the_promotions_line(promoted, tokens, uow, program):
    member = await new_member(uow, program, 1)
    auth = bearer(tokens["purchases"])
    answer = await promoted.post("/api/v1/purchases", json=receipt(member.code), headers=auth)
    assert answer.status_code == 201
    body = answer.json()
    # the coffee lines: 2 x 4.50 and 18.00, 27 spend points, doubled (+27), and 10 more
    assert body["breakdown"] == [
        {"reason": "spend", "detail": "shoes", "points": "200.00"},
        {"reason": "spend", "detail": "coffee", "points": "27.00"},
        {"reason": "item", "detail": "BEANS-1KG", "points": "20.00"},
        {"reason": "visit", "detail": "", "points": "5.00"},
        {"reason": "promotion", "detail": "monday-coffee", "points": "37.00"},
        {"reason": "tier_multiplier", "detail": "Member", "points": "1.0"},
    ]
    assert (body["points_awarded"], body["balance"]) == (289, 339)  # 252 + 37; 50 signup
    early = receipt(member.code, "R-EARLY", occurred_at="2026-03-02T08:30:00-05:00")
    before = await promoted.post("/api/v1/purchases", json=early, headers=auth)
    assert before.json()["points_awarded"] == 252  # bought before 09:00: no promotion
    refund = await promoted.post(
        "/api/v1/refunds", json={"receipt_id": "R-1", "amount": "27.00"}, headers=auth
    )
    assert refund.status_code == 200
    assert refund.json()["points_clawed"] == 61  # floor(289 x 27 / 127)
