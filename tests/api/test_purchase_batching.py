"""Concurrent purchases are recorded in batches and answered as one at a time would be,
and authenticated tokens are kept for `TOKEN_CACHE_SECONDS`."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bot.api.tokens import TOKEN_CACHE_SECONDS
from domain.errors import DuplicateKey
from domain.program import Program
from domain.services import purchases
from domain.services.api_tokens import SCOPES, create_token, revoke_token
from storage.checks import check_invariants
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.api.conftest import api_client, bearer
from tests.conftest import NOW
from tests.integration.helpers import new_member, reset

Answer = tuple[int, Any]
CATALOG = [
    ("LATTE", "coffee", "4.50"),
    ("BEANS-1KG", "coffee", "18.00"),
    ("SNEAKER", "shoes", "100.00"),
    ("TV", "electronics", "420.00"),
    ("WATER", "misc", "0"),
]


def body(
    receipt_id: str, member: dict[str, Any], rng: random.Random, **extra: Any
) -> dict[str, Any]:
    """A request body with 1-3 random catalog lines."""
    items = [
        {"sku": sku, "category": category, "quantity": rng.randint(1, 3), "unit_price": price}
        for sku, category, price in rng.sample(CATALOG, 3)
    ]
    return {
        "receipt_id": receipt_id,
        "member": member,
        "items": items[: rng.randint(1, 3)],
        **extra,
    }


def bodies(codes: list[str]) -> list[dict[str, Any]]:
    """Fresh receipts (several per member, by code or Telegram id) with every special
    case among them: replays and a conflict inside the batch, a replay and a conflict of a
    receipt recorded before, unknown members, a held phone and its replay, invalid ones."""
    rng = random.Random(7)
    fresh = [
        body(
            f"B-{n}",
            {"member_code": codes[n % len(codes)]}
            if n % 2
            else {"telegram_id": 1 + n % len(codes)},
            rng,
        )
        for n in range(38)
    ]
    held = body("H-1", {"phone": "+15550009999"}, rng)
    special = [
        fresh[3],
        fresh[3],
        {**fresh[5], "store": "elsewhere"},
        seen(codes),
        {**seen(codes), "store": "elsewhere"},
        body("U-1", {"telegram_id": 999}, rng),
        body("U-2", {"member_code": "ZZZZ2345"}, rng),
        held,
        held,
        body("F-1", {"telegram_id": 1}, rng, occurred_at=(NOW + timedelta(hours=1)).isoformat()),
        body(" ", {"telegram_id": 2}, rng),
        {**body("Q-1", {"telegram_id": 2}, rng), "items": []},
    ]
    return fresh[:10] + special[:6] + fresh[10:30] + special[6:] + fresh[30:]


def seen(codes: list[str]) -> dict[str, Any]:
    """The receipt recorded before the concurrent ones (it also caches the token)."""
    return body("SEEN-1", {"member_code": codes[0]}, random.Random(1))


async def answers(
    database: Database,
    program: Program,
    fresh_codes: Callable[[], None],
    post: Callable[[httpx.AsyncClient, list[dict[str, Any]], dict[str, str]], Any],
) -> list[Answer]:
    """Fresh members and token, the receipt seen before, then `post` of the bodies."""
    await reset(database)
    fresh_codes()
    uow = SqlUnitOfWork(database)
    codes = [str((await new_member(uow, program, n)).code) for n in range(1, 6)]
    secret, _ = await create_token(uow, "till", frozenset(SCOPES), NOW)
    auth = bearer(secret)
    async with api_client(database, program) as http:
        assert (
            await http.post("/api/v1/purchases", json=seen(codes), headers=auth)
        ).status_code == 201
        replies = await post(http, bodies(codes), auth)
    return [(reply.status_code, reply.json()) for reply in replies]


async def one_at_a_time(
    http: httpx.AsyncClient, sent: list[dict[str, Any]], auth: dict[str, str]
) -> list[httpx.Response]:
    """Each request after the previous one was answered."""
    return [await http.post("/api/v1/purchases", json=one, headers=auth) for one in sent]


async def all_at_once(
    http: httpx.AsyncClient, sent: list[dict[str, Any]], auth: dict[str, str]
) -> list[httpx.Response]:
    """Every request at once; the token is cached by then, so they queue in this order."""
    return await asyncio.gather(
        *[http.post("/api/v1/purchases", json=one, headers=auth) for one in sent]
    )


@pytest.mark.parametrize("batch_fails", [False, True], ids=["batched", "batch-fails"])
async def test_concurrent_purchases_answer_as_one_at_a_time(
    database, program, fresh_codes, monkeypatch: pytest.MonkeyPatch, batch_fails: bool
) -> None:
    batches: list[int] = []
    real = purchases.record_purchases

    async def counted(uow: Any, program: Program, receipts: list[Any], **options: Any) -> Any:
        batches.append(len(receipts))
        if batch_fails:  # as when a receipt was recorded meanwhile: nothing written
            raise DuplicateKey("a receipt was recorded meanwhile")
        return await real(uow, program, receipts, **options)

    expected = await answers(database, program, fresh_codes, one_at_a_time)
    monkeypatch.setattr(purchases, "record_purchases", counted)
    got = await answers(database, program, fresh_codes, all_at_once)
    assert got == expected
    assert {status for status, _ in got} == {200, 201, 202, 404, 409, 422}
    assert max(batches) > 10, batches  # they did go together
    assert await check_invariants(database) == []


async def test_a_revoked_token_works_until_its_cache_entry_expires(database, program, tokens):
    now = NOW
    async with api_client(database, program, lambda: now) as http:
        auth = bearer(tokens["members"])
        assert (await http.get("/api/v1/members/ABCD2345", headers=auth)).status_code == 404
        await revoke_token(SqlUnitOfWork(database), "t-members", NOW)
        now = NOW + timedelta(seconds=TOKEN_CACHE_SECONDS) - timedelta(milliseconds=1)
        assert (await http.get("/api/v1/members/ABCD2345", headers=auth)).status_code == 404
        now = NOW + timedelta(seconds=TOKEN_CACHE_SECONDS)
        assert (await http.get("/api/v1/members/ABCD2345", headers=auth)).status_code == 401
