"""The merchant dashboard in headless Chromium: the one-time link signs in (once), the
metrics show with their charts, a member is found and their points adjusted, and a form
without its CSRF token is refused. Screenshots of every page at 390 and 1280 px."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import insert

from bot.app import button_secret
from bot.web.site import WebSettings
from domain.broadcasts import BroadcastContent
from domain.card_codes import card_key
from domain.earning import PurchaseLine
from domain.program_file import default_program_path, load_program
from domain.segments import Segment
from domain.services.broadcasts import queue_broadcast
from domain.services.dashboard import issue_login, login_key
from domain.services.members import join, update_settings
from domain.services.points import account_summary
from domain.services.purchases import MERCHANT, MemberRef, ReceiptIn, record_purchase
from storage.database import Database
from storage.tables import SurveyCommentRow, SurveySendRow
from tests.web.conftest import BOT_TOKEN, WIDTHS, LiveServer, screenshot

ADMIN = 7001
CUSTOMERS = ((7101, "Lucía", "shoes", "120.00"), (7102, "Marco", "gift-cards", "45.50"))


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """The real app with ADMIN as the program's admin."""
    settings = WebSettings(BOT_TOKEN, card_key(button_secret(BOT_TOKEN)), admins=frozenset({ADMIN}))
    server = LiveServer(
        Database(f"sqlite+aiosqlite:///{tmp_path}/web.db"),
        load_program(default_program_path()),
        settings,
    )
    server.start()
    yield server
    server.stop()


def shop(live: LiveServer) -> dict[str, str]:
    """Two customers with a purchase each and a broadcast; their member codes by name."""

    async def work(uow):
        now = datetime.now(UTC)
        codes = {}
        for telegram_id, name, category, amount in CUSTOMERS:
            joined = await join(
                uow,
                live.program,
                telegram_id=telegram_id,
                first_name=name,
                language_code="en",
                now=now,
            )
            await update_settings(uow, joined.member.id, phone=f"+3460000{telegram_id}")
            await record_purchase(
                uow,
                live.program,
                ReceiptIn(
                    f"R-{telegram_id}",
                    MemberRef("member_code", joined.member.code or ""),
                    [PurchaseLine("sale", category, 1, Decimal(amount))],
                ),
                now=now,
                merchant=MERCHANT,
            )
            codes[name] = joined.member.code or ""
            await comment(live, joined.member.id, telegram_id, now)
        await queue_broadcast(
            uow,
            BroadcastContent(text="Double points this weekend"),
            Segment(),
            "telegram:7001",
            now,
        )
        return codes

    return live.run(work)


async def comment(live: LiveServer, member_id: int, telegram_id: int, at: datetime) -> None:
    """A survey comment of the member, as the chat stores one after a low score."""
    async with live.database.writer.begin() as conn:
        send_id = (
            await conn.execute(
                insert(SurveySendRow)
                .values(
                    survey_id="after_purchase",
                    member_id=member_id,
                    trigger="purchase",
                    reference=f"R-{telegram_id}",
                    created_at=at,
                    due_at=at,
                )
                .returning(SurveySendRow.c.id)
            )
        ).scalar_one()
        text = "The queue was long" if telegram_id % 2 else "Shoes a size too small"
        await conn.execute(
            insert(SurveyCommentRow).values(
                send_id=send_id, question="csat", score=2, text=text, created_at=at
            )
        )


def login_link(live: LiveServer) -> str:
    key = login_key(card_key(button_secret(BOT_TOKEN)))
    token = live.run(lambda uow: issue_login(uow, ADMIN, datetime.now(UTC), key))
    return f"{live.url}/dashboard/login/{token}"


def balance(live: LiveServer, code: str) -> int:
    async def work(uow):
        async with uow:
            member = await uow.members.by_code(code)
        summary = await account_summary(
            uow.__class__(live.database), live.program, member.id, datetime.now(UTC)
        )
        return summary.balance

    return live.run(work)


LONG = 30_000  # ms: the figures of a period computed while the page waits (see below)


def signed_in(page: Any, link: str) -> None:
    """Sign in and wait for the first page's figures: while they are computed the page
    reloads itself, which would cut short a click made meanwhile."""
    page.goto(link)
    expect(page.locator("#figures")).to_be_visible(timeout=LONG)


def test_the_link_signs_in_once_and_shows_the_metrics_with_charts(live, new_page):
    shop(live)
    link = login_link(live)
    page = new_page(width=WIDTHS["desktop"])
    page.goto(link)
    expect(page).to_have_url(f"{live.url}/dashboard/metrics")
    # the last 30 days, today not yet in; a period not computed yet shows "computing" and
    # the page looks again every 2 s, so the figures may take a few seconds on a busy host
    expect(page.locator("#figures")).to_be_visible(timeout=LONG)
    today = datetime.now(UTC).date()
    page.locator("input[name=since]").fill((today - timedelta(days=2)).isoformat())
    page.locator("input[name=until]").fill((today + timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#figures [data-figure=revenue]")).to_contain_text("$165.50", timeout=LONG)
    charts = page.locator(".chart img")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 4
    width = page.evaluate("document.querySelector('.chart img').naturalWidth")
    assert width == 800
    cookie = next(c for c in page.context.cookies() if c["name"] == "dashboard_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    screenshot(page, "dashboard-metrics-1280")

    again = new_page(width=WIDTHS["phone"])
    again.goto(link)
    expect(again.locator("#refusal")).to_contain_text("already used or has expired")
    again.goto(f"{live.url}/dashboard/metrics")
    expect(again.locator("#refusal")).to_contain_text("You are signed out")


def test_a_member_is_found_and_their_points_adjusted(live, new_page):
    codes = shop(live)
    start = balance(live, codes["Lucía"])
    page = new_page(width=WIDTHS["desktop"])
    signed_in(page, login_link(live))
    page.get_by_role("link", name="Members").click()
    page.get_by_role("searchbox").fill("lucí")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#found tbody tr")).to_have_count(1)
    screenshot(page, "dashboard-members-1280")
    page.locator("#found a").click()
    expect(page.locator("#balance")).to_have_text(f"{start:,}")
    page.locator("#adjust input[name=points]").fill("250")
    page.locator("#adjust input[name=reason]").fill("Sorry for the wait")
    page.locator("#adjust button").click()
    expect(page.get_by_role("status")).to_have_text("Points adjusted.")
    expect(page.locator("#balance")).to_have_text(f"{start + 250:,}")
    expect(page.locator("#history")).to_contain_text("Sorry for the wait")
    assert balance(live, codes["Lucía"]) == start + 250
    screenshot(page, "dashboard-member-1280")


def test_a_form_without_its_csrf_token_is_refused(live, new_page):
    codes = shop(live)
    start = balance(live, codes["Marco"])
    page = new_page(width=WIDTHS["desktop"])
    signed_in(page, login_link(live))
    page.goto(f"{live.url}/dashboard/members/{codes['Marco']}")
    page.evaluate("document.querySelector('#adjust input[name=csrf]').remove()")
    page.locator("#adjust input[name=points]").fill("1000")
    page.locator("#adjust input[name=reason]").fill("forged")
    with page.expect_response(lambda r: r.url.endswith("/adjust")) as answer:
        page.locator("#adjust button").click()
    assert answer.value.status == 403
    expect(page.locator("#refusal")).to_contain_text("did not come from the dashboard")
    assert balance(live, codes["Marco"]) == start


def test_every_page_at_phone_and_desktop_width(live, new_page):
    codes = shop(live)
    for width in WIDTHS.values():
        page = new_page(width=width)
        page.goto(login_link(live))
        expect(page.locator("#figures")).to_be_visible(timeout=LONG)
        pages = {
            "metrics": "/dashboard/metrics",
            "members": "/dashboard/members?q=a",
            "member": f"/dashboard/members/{codes['Marco']}",
            "broadcasts": "/dashboard/broadcasts",
            "comments": "/dashboard/comments",
            "audit": "/dashboard/audit",
        }
        for name, path in pages.items():
            page.goto(live.url + path)
            expect(page.locator("h1")).to_be_visible()
            if name == "comments":
                expect(page.locator("#comments")).to_contain_text("The queue was long")
            if width == WIDTHS["phone"] or name in ("broadcasts", "comments", "audit"):
                screenshot(page, f"dashboard-{name}-{width}")
