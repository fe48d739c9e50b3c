"""The members' Mini App in headless Chromium, signed in as Telegram would sign them in."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from playwright.sync_api import expect
from sqlalchemy import func, select

from domain.earning import PurchaseLine
from domain.services.members import join
from domain.services.points import adjust_points
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase
from storage.checks import check_invariants
from storage.tables import DonationRow, VoucherRow
from tests.web.conftest import DARK, WIDTHS, Telegram, init_data, screenshot

ANA, BEN = 5001, 5002
SIGNUP = 50  # the bundled program's signup bonus
REPLAY_TWICE = """async ([url, body, initData]) => {
    const send = () => fetch(url, {method: "POST", body,
        headers: {"Content-Type": "application/json", "X-Telegram-Init-Data": initData}});
    const answers = await Promise.all([send(), send()]);
    return Promise.all(answers.map(async (a) => [a.status, await a.text()]));
}"""


def member(live, telegram_id: int, points: int = 0, language: str = "en") -> str:
    """Join `telegram_id` (with `points` on top of the signup bonus); their member code."""

    async def work(uow):
        now = datetime.now(UTC)
        joined = await join(
            uow,
            live.program,
            telegram_id=telegram_id,
            first_name=f"User{telegram_id}",
            language_code=language,
            now=now,
        )
        if points:
            await adjust_points(
                uow.__class__(live.database),
                live.program,
                member_id=joined.member.id,
                points=points,
                reason="welcome gift",
                actor="test",
                now=now,
            )
        return joined.member.code

    return live.run(work)


def balance(live, telegram_id: int) -> int:
    async def work(uow):
        async with uow:
            found = await uow.members.by_telegram_id(telegram_id)
            return await uow.ledger.balance(found.id)

    return live.run(work)


def count(live, table) -> int:
    async def work(uow):
        async with live.database.reader.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(table))).scalar_one()

    return live.run(work)


def buy_coffee(live, code: str, cups: int) -> None:
    """A receipt of `cups` coffees for the member `code` (stamps on the coffee card)."""

    async def work(uow):
        line = PurchaseLine("LATTE", "coffee", cups, Decimal("4.50"))
        receipt = ReceiptIn(f"R-{code}-{cups}", MemberRef("member_code", code), [line])
        await record_purchase(uow, live.program, receipt, now=datetime.now(UTC))

    live.run(work)


def shown(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def open_app(live, new_page, telegram_id: int, language: str = "en", dark: bool = False, **kw):
    theme = Telegram(init_data(telegram_id, language), DARK, "dark") if dark else None
    page = new_page(theme or Telegram(init_data(telegram_id, language)), **kw)
    page.goto(live.url + "/app/")
    return page


def test_the_card_shows_a_qr_code_of_the_member_code(live, new_page):
    code = member(live, ANA, points=500)
    page = open_app(live, new_page, ANA)
    expect(page.locator("[data-code]")).to_have_text(shown(code))
    expect(page.locator(".qr svg")).to_be_visible()
    expect(page.locator("[data-screen=card] [data-balance]")).to_have_text("550")
    expect(page.get_by_text("500 more tier credits to reach Insider.")).to_be_visible()
    calls = [c["name"] for c in page.evaluate("window.__telegramCalls")]
    assert "ready" in calls
    assert "expand" in calls
    box = page.locator(".qr svg").bounding_box()
    assert box["width"] >= 250  # large enough to scan from a phone held at the till
    screenshot(page, "mini-app-card-light-390")


def test_redeem_spends_once_however_often_it_is_confirmed(live, new_page):
    member(live, ANA, points=500)
    page = open_app(live, new_page, ANA)
    page.get_by_role("link", name="Rewards").click()
    coffee = page.locator("[data-reward=coffee]")
    expect(coffee).to_contain_text("150 points")
    screenshot(page, "mini-app-rewards-light-390")
    coffee.get_by_role("button", name="Redeem").click()
    confirm = page.locator("[data-confirm]")
    expect(page.get_by_text("Redeem Free coffee for 150 points?")).to_be_visible()
    screenshot(page, "mini-app-redeem-confirm-light-390")
    body = confirm.get_attribute("data-body")
    confirm.dblclick()
    voucher = page.locator("[data-voucher-code]")
    expect(voucher).to_have_text(re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$"))
    expect(page.get_by_text("Free coffee is yours!")).to_be_visible()
    screenshot(page, "mini-app-voucher-light-390")
    assert balance(live, ANA) == 550 - 150
    replies = page.evaluate(REPLAY_TWICE, [live.url + "/app/redeem", body, init_data(ANA)])
    assert [status for status, _ in replies] == [200, 200]
    assert all(voucher.inner_text() in html for _, html in replies)  # the first voucher again
    assert balance(live, ANA) == 400
    assert count(live, VoucherRow) == 1
    page.get_by_role("link", name="Rewards").click()
    expect(page.locator(f"[data-voucher='{voucher.inner_text()}']")).to_contain_text("Valid until")
    expect(page.locator("[data-screen=rewards] [data-balance]")).to_have_text("400")


def test_donate_gives_once_however_often_it_is_confirmed(live, new_page):
    member(live, ANA, points=500)
    page = open_app(live, new_page, ANA)
    page.get_by_role("link", name="Causes").click()
    trees = page.locator("[data-cause=trees]")
    trees.get_by_role("spinbutton").fill("9999")
    trees.get_by_role("button", name="Donate").click()
    expect(page.get_by_role("alert")).to_contain_text("That is too large: at most 550.")
    screenshot(page, "mini-app-causes-light-390")
    trees = page.locator("[data-cause=trees]")
    trees.get_by_role("spinbutton").fill("200")
    trees.get_by_role("button", name="Donate").click()
    expect(page.get_by_text("Give 200 points to Plant trees? That is 2 trees.")).to_be_visible()
    confirm = page.locator("[data-confirm]")
    body = confirm.get_attribute("data-body")
    confirm.dblclick()
    expect(page.get_by_role("status")).to_contain_text("Thank you! You gave 200 points")
    screenshot(page, "mini-app-donated-light-390")
    assert balance(live, ANA) == 350
    replies = page.evaluate(REPLAY_TWICE, [live.url + "/app/donate", body, init_data(ANA)])
    assert [status for status, _ in replies] == [200, 200]
    assert balance(live, ANA) == 350
    assert count(live, DonationRow) == 1
    assert live.run(lambda uow: check_invariants(live.database)) == []


def test_tampered_expired_or_foreign_init_data_is_refused(live, new_page):
    member(live, ANA)
    for data in (
        init_data(ANA).replace("User5001", "User5002"),
        init_data(ANA).replace("5001", "5002"),  # another member's id, same signature
        init_data(ANA, at=datetime.now(UTC) - timedelta(hours=2)),
        init_data(ANA, token="654321:ANOTHER-bot"),
        "",
    ):
        page = new_page(Telegram(data))
        answers = []
        page.on("response", lambda r, seen=answers: seen.append((r.url, r.status)))
        page.goto(live.url + "/app/")
        expect(page.get_by_role("alert")).to_contain_text("sign-in could not be checked")
        assert (live.url + "/app/screen/card", 401) in answers
        expect(page.locator("[data-code]")).to_have_count(0)


def test_a_member_sees_and_spends_only_their_own_points(live, new_page):
    ana = member(live, ANA, points=500)
    ben = member(live, BEN)
    page = open_app(live, new_page, ANA)
    page.get_by_role("link", name="Rewards").click()
    page.locator("[data-reward=coffee]").get_by_role("button", name="Redeem").click()
    body = page.locator("[data-confirm]").get_attribute("data-body")
    page.locator("[data-confirm]").click()
    ana_voucher = page.locator("[data-voucher-code]").inner_text()

    bens = open_app(live, new_page, BEN)
    expect(bens.locator("[data-code]")).to_have_text(shown(ben))
    expect(bens.locator("[data-screen=card] [data-balance]")).to_have_text(str(SIGNUP))
    assert shown(ana) not in bens.content()
    # Ben replays Ana's confirmed request: it is his own (he has too few points), never hers
    [(status, html)] = bens.evaluate(
        """async ([url, body, initData]) => {
            const a = await fetch(url, {method: "POST", body, headers:
                {"Content-Type": "application/json", "X-Telegram-Init-Data": initData}});
            return [[a.status, await a.text()]];
        }""",
        [live.url + "/app/redeem", body, init_data(BEN)],
    )
    assert status == 409
    assert "you need 100 more" in html
    assert ana_voucher not in html
    # no screen takes a member: a query naming Ana changes nothing
    reply = bens.evaluate(
        """async ([url, initData]) => (await fetch(url, {headers:
            {"X-Telegram-Init-Data": initData}})).text()""",
        [live.url + f"/app/screen/card?member={ana}&telegram_id={ANA}", init_data(BEN)],
    )
    assert shown(ben) in reply
    assert shown(ana) not in reply
    assert balance(live, ANA) == 400
    assert balance(live, BEN) == SIGNUP


def test_goals_and_history(live, new_page):
    code = member(live, ANA, points=500)
    buy_coffee(live, code, 4)
    page = open_app(live, new_page, ANA)
    page.get_by_role("link", name="Goals").click()
    five = page.locator("[data-challenge=five]")
    expect(five).to_contain_text("Make 5 purchases")
    expect(five).to_contain_text("Reward: +100 points")
    expect(five).to_contain_text("1 of 5")
    spender = page.locator("[data-challenge=spender]")
    expect(spender).to_contain_text("Reward: Free coffee")
    spender.get_by_role("button", name="Join").click()
    expect(page.get_by_role("status")).to_contain_text("You're in: “Big spender”")
    expect(page.locator("[data-challenge=spender]")).to_contain_text("$0.00 of $100.00")
    expect(page.locator("[data-challenge=spender] button")).to_have_count(0)
    card = page.locator("[data-stamp-card=coffee-card]")
    expect(card).to_contain_text("4 of 6 stamps · a full card gives Free coffee")
    expect(card.locator(".stamps i.on")).to_have_count(4)
    screenshot(page, "mini-app-goals-light-390")
    page.get_by_role("link", name="History").click()
    rows = page.locator("[data-screen=history] li")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Purchase")
    expect(rows.nth(1)).to_contain_text("welcome gift")
    expect(rows.nth(2)).to_contain_text("Welcome bonus")
    screenshot(page, "mini-app-history-light-390")


def test_spanish_and_dark_at_both_widths(live, new_page):
    code = member(live, ANA, points=120, language="es")
    buy_coffee(live, code, 2)
    for width in WIDTHS.values():
        page = open_app(live, new_page, ANA, "es", dark=True, width=width)
        expect(page.locator("[data-screen=card]")).to_contain_text("Puntos")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(33, 45, 59)"  # DARK's bg_color from themeParams
        assert page.evaluate("document.documentElement.dataset.scheme") == "dark"
        screenshot(page, f"mini-app-card-dark-{width}")
        for tab in ("Premios", "Causas", "Retos", "Historial"):
            page.get_by_role("link", name=tab).click()
            expect(page.locator(f"nav a[aria-current=page]:has-text('{tab}')")).to_be_visible()
            name = {"Premios": "rewards", "Causas": "causes", "Retos": "goals"}.get(tab, "history")
            screenshot(page, f"mini-app-{name}-dark-{width}")
    light = open_app(live, new_page, ANA, "es", width=WIDTHS["desktop"])
    expect(light.locator("[data-screen=card]")).to_contain_text("Puntos")
    screenshot(light, "mini-app-card-light-1280")


def test_theme_follows_telegram_when_it_changes(live, new_page):
    member(live, ANA)
    page = open_app(live, new_page, ANA)
    expect(page.locator("[data-code]")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    page.evaluate("(t) => Telegram.WebApp.__setTheme(t, 'dark')", DARK)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(33, 45, 59)"


def test_the_card_code_renews_itself(live, new_page):
    member(live, ANA)
    page = new_page(Telegram(init_data(ANA)))
    page.clock.install()
    page.goto(live.url + "/app/")
    expect(page.locator("[data-code]")).to_be_visible()
    assert page.locator("[data-refresh]").get_attribute("data-seconds") == "120"
    with page.expect_response(lambda r: r.url.endswith("/app/screen/qr")) as renewed:
        page.clock.fast_forward(120_000)
    assert renewed.value.status == 200
    expect(page.locator("[data-code]")).to_be_visible()
