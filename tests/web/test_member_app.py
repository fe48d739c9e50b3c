"""The members' Mini App in headless Chromium, signed in as Telegram would sign them in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from domain.services.members import join
from domain.services.points import adjust_points
from tests.web.conftest import DARK, WIDTHS, Telegram, init_data, screenshot

ANA, BEN = 5001, 5002


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
                reason="test",
                actor="test",
                now=now,
            )
        return joined.member.code

    return live.run(work)


def test_the_card_shows_a_qr_code_of_the_signed_member_code(live, new_page):
    code = member(live, ANA, points=500)
    page = new_page(Telegram(init_data(ANA)))
    page.goto(live.url + "/app/")
    expect(page.locator("[data-code]")).to_have_text(f"{code[:4]}-{code[4:]}")
    expect(page.locator(".qr svg")).to_be_visible()
    expect(page.locator("[data-screen=card] [data-balance]")).to_have_text("550")
    screenshot(page, "mini-app-card-light-390")


def test_tampered_and_expired_init_data_are_refused(live, new_page):
    member(live, ANA)
    for data in (
        init_data(ANA).replace("User5001", "User5002"),
        init_data(ANA, at=datetime.now(UTC) - timedelta(hours=2)),
        init_data(ANA, token="654321:ANOTHER-bot"),
    ):
        page = new_page(Telegram(data))
        answers = []
        page.on("response", lambda r, seen=answers: seen.append((r.url, r.status)))
        page.goto(live.url + "/app/")
        expect(page.get_by_role("alert")).to_contain_text("sign-in could not be checked")
        assert (live.url + "/app/screen/card", 401) in answers
        expect(page.locator("[data-code]")).to_have_count(0)


def test_dark_theme(live, new_page):
    member(live, ANA, points=120, language="es")
    page = new_page(Telegram(init_data(ANA, "es"), DARK, "dark"), WIDTHS["desktop"])
    page.goto(live.url + "/app/")
    expect(page.locator("[data-screen=card]")).to_contain_text("Puntos")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(33, 45, 59)"
    screenshot(page, "mini-app-card-dark-1280")
