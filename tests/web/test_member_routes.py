"""The Mini App's routes in-process on both databases: sign-in, the signed card code, and
redeeming and donating at most once per request id, even when sent twice at once."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from bot.api.app import create_api
from bot.app import button_secret
from bot.qr import qr_svg
from bot.web.member import HISTORY_PAGE
from bot.web.site import WebSettings
from domain.card_codes import card_key, signed_card_code
from domain.ledger import add_months
from domain.program import Challenge
from domain.services.points import adjust_points
from storage.checks import check_invariants
from storage.tables import DonationRow, VoucherRow
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.integration.helpers import balance, new_member
from tests.web.conftest import BOT_TOKEN, init_data

WEB = WebSettings(BOT_TOKEN, card_key(button_secret(BOT_TOKEN)), auth_max_age=3600)
HEADER = "X-Telegram-Init-Data"


@asynccontextmanager
async def mini_app(database, program) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app's pages over `database` and `program`, at the test's NOW."""
    api = create_api(
        lambda: SqlUnitOfWork(database),
        lambda: SqlUnitOfWork(database, read_only=True),
        program,
        lambda: NOW,
        web=WEB,
    )
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://mini") as http:
        yield http


@pytest.fixture
async def app(database, program) -> AsyncIterator[httpx.AsyncClient]:
    async with mini_app(database, program) as http:
        yield http


def signed(telegram_id: int, language: str = "en", age: int = 0) -> dict[str, str]:
    return {HEADER: init_data(telegram_id, language, at=NOW - timedelta(seconds=age))}


async def gift(uow, program, member, points: int) -> None:
    await adjust_points(
        uow, program, member_id=member.id, points=points, reason="t", actor="t", now=NOW
    )


async def rows(database, table) -> int:
    async with database.reader.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


def request_id(html: str) -> dict[str, object]:
    return json.loads(re.search(r"data-body='([^']+)'", html)[1])


async def test_every_screen_needs_genuine_fresh_init_data(app, uow, program):
    await new_member(uow, program, 4001)
    screens = ["card", "qr", "rewards", "causes", "goals", "history", "redeem", "donate"]
    refused = [
        {},
        {HEADER: "user=%7B%22id%22%3A4001%7D&auth_date=1&hash=00"},
        signed(4001, age=3601),
        {HEADER: init_data(4001, at=NOW, token="42:OTHER")},
    ]
    for headers in refused:
        for name in screens:
            answer = await app.get(f"/app/screen/{name}", headers=headers)
            assert answer.status_code == 401, (name, headers)
            assert answer.json()["error"] == "unauthorized"
        for action in ("redeem", "donate"):
            assert (await app.post(f"/app/{action}", json={}, headers=headers)).status_code == 401
    assert (await app.get("/app/screen/card", headers=signed(4001, age=3600))).status_code == 200


async def test_the_shell_is_the_same_for_everyone_and_loads_nothing_from_elsewhere(app):
    page = await app.get("/app/", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert page.status_code == 200
    assert 'lang="es"' in page.text
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self' https://telegram.org" in policy
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert [s for s in sources if s.startswith("http")] == [
        "https://telegram.org/js/telegram-web-app.js"
    ]
    for local in (s for s in sources if s.startswith("/")):
        assert (await app.get(local)).status_code == 200


async def test_the_card_qr_is_the_member_code_signed_now(app, uow, program):
    member = await new_member(uow, program, 4001)
    card = await app.get("/app/screen/card", headers=signed(4001))
    code = signed_card_code(member.code, NOW, WEB.card_key)
    assert qr_svg(code) in card.text
    assert f"{member.code[:4]}-{member.code[4:]}" in card.text
    assert 'data-seconds="120"' in card.text


async def test_someone_not_joined_is_told_to_start_in_their_language(app):
    answer = await app.get("/app/screen/card", headers=signed(4999, "es"))
    assert answer.status_code == 200
    assert "Aún no te has unido" in answer.text


async def test_redeem_acts_once_per_request_id_even_at_once(app, uow, database, program):
    member = await new_member(uow, program, 4001)
    await gift(SqlUnitOfWork(database), program, member, 500)
    confirm = await app.get("/app/screen/redeem?reward=coffee", headers=signed(4001))
    body = request_id(confirm.text)
    assert body["reward"] == "coffee"
    answers = await asyncio.gather(
        *(app.post("/app/redeem", json=body, headers=signed(4001)) for _ in range(3))
    )
    assert [a.status_code for a in answers] == [200, 200, 200]
    codes = {re.search(r"data-voucher-code>([^<]+)<", a.text)[1] for a in answers}
    assert len(codes) == 1
    later = await app.post("/app/redeem", json=body, headers=signed(4001))
    assert codes.pop() in later.text
    assert await balance(SqlUnitOfWork(database), member) == 550 - 150
    assert await rows(database, VoucherRow) == 1
    other = await app.get("/app/screen/redeem?reward=coffee", headers=signed(4001))
    assert request_id(other.text)["request"] != body["request"]  # a new one each time
    assert await check_invariants(database) == []


async def test_donate_acts_once_per_request_id_even_at_once(app, uow, database, program):
    member = await new_member(uow, program, 4001)
    await gift(SqlUnitOfWork(database), program, member, 500)
    confirm = await app.get("/app/screen/donate?cause=trees&points=200", headers=signed(4001))
    body = request_id(confirm.text)
    assert (body["cause"], body["points"]) == ("trees", 200)
    answers = await asyncio.gather(
        *(app.post("/app/donate", json=body, headers=signed(4001)) for _ in range(3))
    )
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert await balance(SqlUnitOfWork(database), member) == 350
    assert await rows(database, DonationRow) == 1
    assert await check_invariants(database) == []


async def test_refusals_are_screens_in_the_members_language(app, uow, program):
    await new_member(uow, program, 4001)  # 50 points
    too_much = await app.get("/app/screen/donate?cause=trees&points=51", headers=signed(4001))
    assert too_much.status_code == 422
    assert "at most 50" in too_much.text
    letters = await app.get("/app/screen/donate?cause=trees&points=abc", headers=signed(4001))
    assert "whole number" in letters.text
    body = {"reward": "coffee", "request": "x" * 20}
    short = await app.post("/app/redeem", json=body, headers=signed(4001))
    assert short.status_code == 409
    assert "you need 100 more" in short.text
    gone = await app.get("/app/screen/redeem?reward=nope", headers=signed(4001))
    assert gone.status_code == 404
    bad = await app.post(
        "/app/redeem", json={"reward": "coffee", "request": "<x>"}, headers=signed(4001)
    )
    assert bad.status_code == 422


async def test_a_request_id_is_the_members_own(app, uow, database, program):
    ana = await new_member(uow, program, 4001)
    ben = await new_member(SqlUnitOfWork(database), program, 4002)
    await gift(SqlUnitOfWork(database), program, ana, 500)
    await gift(SqlUnitOfWork(database), program, ben, 500)
    body = {"reward": "coffee", "request": "same-request-id-123"}
    first = await app.post("/app/redeem", json=body, headers=signed(4001))
    second = await app.post("/app/redeem", json=body, headers=signed(4002))
    codes = [re.search(r"data-voucher-code>([^<]+)<", a.text)[1] for a in (first, second)]
    assert codes[0] != codes[1]
    assert await balance(SqlUnitOfWork(database), ana) == 400
    assert await balance(SqlUnitOfWork(database), ben) == 400
    history = await app.get("/app/screen/rewards", headers=signed(4002))
    assert codes[1] in history.text
    assert codes[0] not in history.text


async def test_joining_a_challenge_twice_joins_once(uow, database, program):
    spender = Challenge("spender", "Big spender", "spend", Decimal(100), days=30, opt_in=True)
    await new_member(uow, program, 4001)
    async with mini_app(database, replace(program, challenges=(spender,))) as app:
        goals = await app.get("/app/screen/goals", headers=signed(4001))
        assert request_id(goals.text) == {"challenge": "spender"}
        first = await app.post("/app/join", json={"challenge": "spender"}, headers=signed(4001))
        assert "You're in" in first.text
        again = await app.post("/app/join", json={"challenge": "spender"}, headers=signed(4001))
        assert "already joined" in again.text
        gone = await app.post("/app/join", json={"challenge": "nope"}, headers=signed(4001))
        assert gone.status_code == 404


async def test_the_card_shows_points_expiring_within_30_days(app, uow, program):
    joined = add_months(NOW, -program.expiry.months) + timedelta(days=10)
    await new_member(uow, program, 4001, now=joined)  # the signup bonus expires in 10 days
    card = await app.get("/app/screen/card", headers=signed(4001))
    expiry = add_months(joined, program.expiry.months)
    assert f"50 points expire on {expiry:%b} {expiry.day}, {expiry.year}." in card.text


async def test_history_goes_back_a_page_at_a_time(app, uow, database, program):
    member = await new_member(uow, program, 4001)
    for n in range(HISTORY_PAGE):
        await gift(SqlUnitOfWork(database), program, member, n + 1)
    first = await app.get("/app/screen/history", headers=signed(4001))
    assert "Page 1 of 2" in first.text
    assert "history?page=2" in first.text
    assert "history?page=0" not in first.text
    second = await app.get("/app/screen/history?page=2", headers=signed(4001))
    assert "Welcome bonus" in second.text
    assert "history?page=1" in second.text
    assert "history?page=3" not in second.text
