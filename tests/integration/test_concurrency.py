"""Many requests at once against one account: points are never spent twice or awarded twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

from domain.errors import InsufficientPoints, LoyaltyError
from domain.services.donations import donate
from domain.services.points import adjust_points
from domain.services.purchases import refund_purchase
from domain.services.rewards import redeem_reward
from storage.checks import check_invariants
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.integration.helpers import balance, buy, line, new_member

ATTEMPTS = 50
AFFORDABLE = 7  # the balance covers exactly this many


async def outcomes(calls: list) -> Counter[str]:
    """Run calls at once and count 'ok' and each error code."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    unexpected = [
        r for r in results if isinstance(r, BaseException) and not isinstance(r, LoyaltyError)
    ]
    assert not unexpected, unexpected
    return Counter("ok" if not isinstance(r, BaseException) else r.code for r in results)


async def funded_member(database: Database, program, points: int):
    uow = SqlUnitOfWork(database)
    member = await new_member(uow, program, 1)
    await adjust_points(
        uow, program, member_id=member.id, points=points - 50, reason="fund", actor="test", now=NOW
    )
    return member


async def test_concurrent_redemptions_spend_exactly_the_balance(database, program):
    member = await funded_member(database, program, AFFORDABLE * 150 + 149)
    counts = await outcomes(
        [
            redeem_reward(
                SqlUnitOfWork(database), program, member_id=member.id, reward_id="coffee", now=NOW
            )
            for _ in range(ATTEMPTS)
        ]
    )
    assert counts == {"ok": AFFORDABLE, InsufficientPoints.code: ATTEMPTS - AFFORDABLE}
    assert await balance(SqlUnitOfWork(database), member) == 149
    async with SqlUnitOfWork(database) as uow:
        assert await uow.rewards.issued("coffee") == AFFORDABLE
        assert len(await uow.rewards.member_vouchers(member.id)) == AFFORDABLE
    assert await check_invariants(database) == []


async def test_concurrent_donations_spend_exactly_the_balance(database, program):
    member = await funded_member(database, program, AFFORDABLE * 40 + 39)
    counts = await outcomes(
        [
            donate(
                SqlUnitOfWork(database),
                program,
                member_id=member.id,
                cause_id="meals",
                points=40,
                now=NOW,
            )
            for _ in range(ATTEMPTS)
        ]
    )
    assert counts == {"ok": AFFORDABLE, InsufficientPoints.code: ATTEMPTS - AFFORDABLE}
    assert await balance(SqlUnitOfWork(database), member) == 39
    async with SqlUnitOfWork(database) as uow:
        assert await uow.causes.total("meals") == AFFORDABLE * 40
    assert await check_invariants(database) == []


async def test_twenty_submissions_of_one_receipt_award_once(database, program):
    member = await new_member(SqlUnitOfWork(database), program, 1)
    results = await asyncio.gather(
        *[
            buy(SqlUnitOfWork(database), program, member, "R-42", line("X", "coffee", 2, "10.00"))
            for _ in range(20)
        ]
    )
    assert sum(not r.replayed for r in results) == 1
    assert {r.points for r in results} == {25}
    assert await balance(SqlUnitOfWork(database), member) == 75
    assert await check_invariants(database) == []


async def test_same_button_pressed_many_times_redeems_once(database, program):
    member = await funded_member(database, program, 1000)
    results = await asyncio.gather(
        *[
            redeem_reward(
                SqlUnitOfWork(database),
                program,
                member_id=member.id,
                reward_id="coffee",
                now=NOW,
                request_id="press-1",
            )
            for _ in range(10)
        ]
    )
    assert len({r.voucher.code for r in results}) == 1
    assert await balance(SqlUnitOfWork(database), member) == 850
    assert await check_invariants(database) == []


async def test_one_donation_request_sent_many_times_gives_once(database, program):
    member = await funded_member(database, program, 1000)
    results = await asyncio.gather(
        *[
            donate(
                SqlUnitOfWork(database),
                program,
                member_id=member.id,
                cause_id="trees",
                points=300,
                now=NOW,
                request_id="gift-1",
            )
            for _ in range(10)
        ]
    )
    assert sum(not r.replayed for r in results) == 1
    assert await balance(SqlUnitOfWork(database), member) == 700
    assert await check_invariants(database) == []


async def test_one_refund_id_sent_many_times_refunds_once(database, program):
    member = await new_member(SqlUnitOfWork(database), program, 1)
    await buy(SqlUnitOfWork(database), program, member, "R-1", line("X", "coffee", 1, "100"))
    results = await asyncio.gather(
        *[
            refund_purchase(
                SqlUnitOfWork(database),
                program,
                merchant="main",
                receipt_id="R-1",
                amount=Decimal("30"),
                now=NOW,
                refund_id="RF-9",
            )
            for _ in range(10)
        ]
    )
    assert sum(not r.replayed for r in results) == 1
    assert {r.refunded_total for r in results} == {Decimal(30)}
    assert await balance(SqlUnitOfWork(database), member) == 155 - 31  # floor(105 * 0.3)
    assert await check_invariants(database) == []
