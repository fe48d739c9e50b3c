"""The cashier scanner in headless Chromium, signed in as Telegram would sign in a cashier:
a scanned card code records a sale once even when Confirm is clicked twice and the request
is replayed; a scanned voucher is used once; a customer gets 403."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot.app import button_secret
from bot.web.site import WebSettings
from domain.card_codes import card_key, signed_card_code
from domain.program_file import default_program_path, load_program
from domain.services.members import join
from domain.services.points import account_summary, adjust_points
from domain.services.rewards import redeem_reward
from domain.services.staff import accept_staff_invite, invite_staff
from storage.database import Database
from tests.web.conftest import BOT_TOKEN, WIDTHS, LiveServer, Telegram, init_data, screenshot

ADMIN, CASHIER, CUSTOMER = 8001, 8002, 8101
KEY = card_key(button_secret(BOT_TOKEN))


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """The real app with ADMIN as admin, and CASHIER a cashier ADMIN invited."""
    settings = WebSettings(BOT_TOKEN, KEY, admins=frozenset({ADMIN}))
    server = LiveServer(
        Database(f"sqlite+aiosqlite:///{tmp_path}/web.db"),
        load_program(default_program_path()),
        settings,
    )
    server.start()

    async def hire(uow):
        invite = await invite_staff(uow, ADMIN, datetime.now(UTC))
        await accept_staff_invite(
            uow.__class__(server.database), invite[2:], CASHIER, "Carla", datetime.now(UTC)
        )

    server.run(hire)
    yield server
    server.stop()


def customer(live: LiveServer, points: int = 0) -> tuple[int, str]:
    """CUSTOMER joined (with `points` more); their member id and code."""

    async def work(uow):
        now = datetime.now(UTC)
        joined = await join(
            uow,
            live.program,
            telegram_id=CUSTOMER,
            first_name="Lucía",
            language_code="en",
            now=now,
        )
        if points:
            await adjust_points(
                uow.__class__(live.database),
                live.program,
                member_id=joined.member.id,
                points=points,
                reason="test",
                actor="test",
                now=now,
            )
        return joined.member.id, joined.member.code

    return live.run(work)


def balance(live: LiveServer, member_id: int) -> int:
    async def work(uow):
        summary = await account_summary(uow, live.program, member_id, datetime.now(UTC))
        return summary.balance

    return live.run(work)


def scan(page, text: str) -> None:
    """Tap the scan button and let the stand-in camera read `text`."""
    page.locator("[data-scan]").click()
    calls = page.evaluate("window.__telegramCalls.map(c => c.name)")
    assert "showScanQrPopup" in calls
    page.evaluate("text => window.Telegram.WebApp.__scan(text)", text)


def test_a_scanned_card_records_a_sale_once(live, new_page):
    member_id, code = customer(live)
    before = balance(live, member_id)
    page = new_page(Telegram(init_data(CASHIER)))
    page.goto(live.url + "/scanner/")
    expect(page.locator("[data-scan]")).to_be_visible()
    screenshot(page, "scanner-start-390")
    scan(page, signed_card_code(code, datetime.now(UTC), KEY))
    expect(page.locator("[data-member-code]")).to_have_text(f"{code[:4]}-{code[4:]}")
    page.locator("#amount").fill("80.00")
    page.locator("#category").select_option("shoes")
    screenshot(page, "scanner-member-390")
    page.get_by_role("button", name="Next").click()
    confirm = page.get_by_role("button", name="Record the sale")
    expect(confirm).to_be_visible()
    body = confirm.get_attribute("data-body")
    screenshot(page, "scanner-confirm-390")
    confirm.dblclick()
    expect(page.locator("[data-recorded]")).to_contain_text("Sale recorded")
    after = balance(live, member_id)
    assert after > before
    replayed = page.evaluate(
        """([body, data]) => fetch('/scanner/sale', {method: 'POST', body,
            headers: {'Content-Type': 'application/json', 'X-Telegram-Init-Data': data}})
            .then(r => r.text())""",
        [body, init_data(CASHIER)],
    )
    assert "already recorded before" in replayed
    assert balance(live, member_id) == after
    screenshot(page, "scanner-done-390")


def test_a_scanned_voucher_is_used_once(live, new_page):
    member_id, _ = customer(live, points=1000)

    async def voucher(uow):
        done = await redeem_reward(
            uow, live.program, member_id=member_id, reward_id="coffee", now=datetime.now(UTC)
        )
        return done.voucher.code

    code = live.run(voucher)
    page = new_page(Telegram(init_data(ADMIN)), WIDTHS["desktop"])
    page.goto(live.url + "/scanner/")
    scan(page, code)
    use = page.get_by_role("button", name="Use the voucher")
    expect(use).to_be_visible()
    screenshot(page, "scanner-voucher-1280")
    use.click()
    expect(page.locator("[data-voucher-used]")).to_be_visible()
    page.get_by_role("button", name="Back").click()
    page.locator("#typed-code").fill(code)
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("button", name="Use the voucher")).to_have_count(0)
    expect(page.locator(".screen")).to_contain_text("Used on")


def test_a_customer_gets_403(live, new_page):
    customer(live)
    page = new_page(Telegram(init_data(CUSTOMER)))
    answers = []
    page.on("response", lambda r: answers.append((r.url, r.status)))
    page.goto(live.url + "/scanner/")
    expect(page.locator("[data-refusal=staff_only]")).to_contain_text("for the shop's staff")
    assert (live.url + "/scanner/screen/start", 403) in answers
    expect(page.locator("[data-scan]")).to_have_count(0)
    screenshot(page, "scanner-customer-403-390")


def test_a_sale_typed_in_spanish_at_desktop_width(live, new_page):
    member_id, code = customer(live)
    before = balance(live, member_id)
    page = new_page(Telegram(init_data(CASHIER, "es")), WIDTHS["desktop"])
    page.goto(live.url + "/scanner/")
    expect(page.locator("[data-scan]")).to_have_text("📷 Escanear tarjeta o vale")
    screenshot(page, "scanner-start-1280")
    page.locator("#typed-code").fill(code.lower())
    page.get_by_role("button", name="Buscar").click()
    page.locator("#amount").fill("19,90")
    page.locator("#category").select_option("shoes")
    screenshot(page, "scanner-member-1280")
    page.get_by_role("button", name="Siguiente").click()
    expect(page.get_by_role("button", name="Registrar la venta")).to_be_visible()
    screenshot(page, "scanner-confirm-1280")
    page.get_by_role("button", name="Registrar la venta").click()
    expect(page.locator("[data-recorded]")).to_be_visible()
    screenshot(page, "scanner-done-1280")
    assert balance(live, member_id) > before
