"""The cashier scanner over HTTP, on both databases: staff only (by Telegram's signed
initData), the plain and the signed card code, a sale recorded once per receipt id through
the same service as /sale, and a voucher used once."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from bot.api.app import create_api
from bot.web.site import WebSettings
from bot.web.telegram_auth import INIT_DATA_HEADER, sign_init_data
from domain.card_codes import signed_card_code
from domain.services.points import account_summary
from domain.services.rewards import redeem_reward
from domain.services.staff import accept_staff_invite, invite_staff, remove_staff
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.integration.helpers import new_member

ADMIN, CASHIER, CUSTOMER = 900, 901, 1
TOKEN = "123456:SCANNER-test-token"
CARD_KEY = b"c" * 32
QR_SECONDS = 120


def signed(telegram_id: int, language: str = "en") -> dict[str, str]:
    """The header a Mini App of `telegram_id` sends, signed now (NOW) with the bot token."""
    user = {"id": telegram_id, "first_name": "Kim", "language_code": language}
    fields = {"user": json.dumps(user), "auth_date": str(int(NOW.timestamp()))}
    return {INIT_DATA_HEADER: sign_init_data(fields, TOKEN)}


@pytest.fixture
async def http(database, program) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its pages; ADMIN is an admin, CASHIER a cashier an admin invited."""
    uow = SqlUnitOfWork(database)
    invite = await invite_staff(uow, ADMIN, NOW)
    await accept_staff_invite(uow, invite.removeprefix("s-"), CASHIER, "Kim", NOW)
    api = create_api(
        lambda: SqlUnitOfWork(database),
        lambda: SqlUnitOfWork(database, read_only=True),
        program,
        lambda: NOW,
        web=WebSettings(TOKEN, CARD_KEY, 3600, QR_SECONDS, frozenset({ADMIN})),
    )
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
        yield client


def body_of(page: httpx.Response) -> dict[str, str]:
    """The JSON a screen's confirm button posts."""
    found = re.search(r"data-body='([^']+)'", page.text)
    assert found, page.text
    return json.loads(found.group(1).replace("&#34;", '"'))


async def test_the_page_is_served_and_loads_nothing_from_another_site(http):
    page = await http.get("/scanner/")
    assert page.status_code == 200
    assert 'data-start="/scanner/screen/start"' in page.text
    for source in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert source.startswith("/") or source == "https://telegram.org/js/telegram-web-app.js"


async def test_a_customer_or_a_removed_cashier_gets_403_and_no_initdata_401(
    http, database, program
):
    await new_member(SqlUnitOfWork(database), program, CUSTOMER)
    refused = await http.get("/scanner/screen/start", headers=signed(CUSTOMER))
    assert refused.status_code == 403
    assert 'data-refusal="staff_only"' in refused.text
    for path in ("/scanner/screen/code?text=ABCD2345", "/scanner/screen/sale"):
        assert (await http.get(path, headers=signed(CUSTOMER))).status_code == 403
    sale = {"member": "ABCD2345", "amount": "5", "category": "other", "receipt": "web-abcdef"}
    assert (
        await http.post("/scanner/sale", json=sale, headers=signed(CUSTOMER))
    ).status_code == 403
    voucher = {"code": "ABCDEFGH2345"}
    answer = await http.post("/scanner/voucher", json=voucher, headers=signed(CUSTOMER))
    assert answer.status_code == 403
    assert (await http.get("/scanner/screen/start")).status_code == 401
    assert (await http.get("/scanner/screen/start", headers=signed(ADMIN))).status_code == 200
    assert (await http.get("/scanner/screen/start", headers=signed(CASHIER))).status_code == 200
    await remove_staff(SqlUnitOfWork(database), ADMIN, CASHIER, NOW)
    assert (await http.get("/scanner/screen/start", headers=signed(CASHIER))).status_code == 403


async def test_a_sale_from_the_signed_card_code_is_recorded_once(http, database, program):
    uow = SqlUnitOfWork(database)
    member = await new_member(uow, program, CUSTOMER)
    before = (await account_summary(uow, program, member.id, NOW)).balance
    code = signed_card_code(member.code or "", NOW - timedelta(seconds=60), CARD_KEY)
    shown = await http.get("/scanner/screen/code", params={"text": code}, headers=signed(CASHIER))
    assert shown.status_code == 200
    assert f'name="member" value="{member.code}"' in shown.text
    confirm = await http.get(
        "/scanner/screen/sale",
        params={"member": member.code, "amount": "12.50", "category": "shoes"},
        headers=signed(CASHIER),
    )
    assert confirm.status_code == 200
    body = body_of(confirm)
    assert body["amount"] == "12.50"
    first = await http.post("/scanner/sale", json=body, headers=signed(CASHIER))
    second = await http.post("/scanner/sale", json=body, headers=signed(CASHIER))
    assert first.status_code == second.status_code == 200
    assert f'data-recorded="{body["receipt"]}"' in first.text
    assert "already recorded before" in second.text
    after = (await account_summary(uow, program, member.id, NOW)).balance
    assert after > before
    async with SqlUnitOfWork(database, read_only=True) as reader:
        record = await reader.purchases.get("main", body["receipt"])
    assert record is not None
    assert record.answer is not None
    assert after == before + int(str(record.answer["points_awarded"]))


async def test_the_plain_code_works_and_bad_codes_are_refused(http, database, program):
    member = await new_member(SqlUnitOfWork(database), program, CUSTOMER)
    plain = await http.get(
        "/scanner/screen/code", params={"text": (member.code or "").lower()}, headers=signed(ADMIN)
    )
    assert plain.status_code == 200
    assert "data-member-code" in plain.text
    old = signed_card_code(member.code or "", NOW - timedelta(seconds=QR_SECONDS + 1), CARD_KEY)
    forged = signed_card_code(member.code or "", NOW, b"x" * 32)
    for text, reason, status in (
        (old, "card_expired", 422),
        (forged, "card_forged", 422),
        ("hello", "unreadable", 422),
        ("ZZZZ9999", "member_not_found", 404),
        ("ZZZZ9999ZZZZ", "voucher_not_found", 404),
    ):
        answer = await http.get(
            "/scanner/screen/code", params={"text": text}, headers=signed(ADMIN)
        )
        assert answer.status_code == status, text
        assert f'data-refusal="{reason}"' in answer.text, text


async def test_a_bad_amount_asks_again_and_a_forged_sale_records_nothing(http, database, program):
    member = await new_member(SqlUnitOfWork(database), program, CUSTOMER)
    again = await http.get(
        "/scanner/screen/sale",
        params={"member": member.code, "amount": "12,345.00", "category": "shoes"},
        headers=signed(CASHIER),
    )
    assert again.status_code == 422
    assert 'name="amount"' in again.text
    bad = {"member": member.code, "amount": "5", "category": "weapons", "receipt": "web-abcdef"}
    answer = await http.post("/scanner/sale", json=bad, headers=signed(CASHIER))
    assert answer.status_code == 422
    assert (await http.post("/scanner/sale", json={}, headers=signed(CASHIER))).status_code == 422


async def test_a_voucher_is_checked_then_used_once(http, database, program):
    uow = SqlUnitOfWork(database)
    member = await new_member(uow, program, CUSTOMER)
    from domain.services.points import adjust_points

    await adjust_points(
        uow, program, member_id=member.id, points=1000, reason="test", actor="t", now=NOW
    )
    voucher = (
        await redeem_reward(uow, program, member_id=member.id, reward_id="coffee", now=NOW)
    ).voucher
    shown = await http.get(
        "/scanner/screen/code", params={"text": voucher.code}, headers=signed(CASHIER)
    )
    assert shown.status_code == 200
    body = body_of(shown)
    first = await http.post("/scanner/voucher", json=body, headers=signed(CASHIER))
    second = await http.post("/scanner/voucher", json=body, headers=signed(CASHIER))
    assert first.status_code == 200
    assert "data-voucher-used" in first.text
    assert second.status_code == 409
    assert 'data-refusal="voucher_used"' in second.text


async def test_the_scanner_speaks_the_cashier_language(http):
    page = await http.get("/scanner/screen/start", headers=signed(CASHIER, "es"))
    assert "Escanear tarjeta o vale" in page.text
