"""The merchant dashboard over HTTP: the one-time login, the session cookie, CSRF on every
form, and each page on the same services as the chat (both databases)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import insert

from bot.api.app import create_api
from bot.period_figures import KeptFigures, PeriodFigures, keep_default_period
from bot.web.period_cache import FRESH_SECONDS
from bot.web.sessions import COOKIE, SESSION_SECONDS
from bot.web.site import WebSettings
from domain.broadcasts import BroadcastContent
from domain.segments import Segment
from domain.services.broadcasts import get_broadcast, queue_broadcast
from domain.services.dashboard import LOGIN_LIFETIME, issue_login, login_key
from domain.services.members import update_settings
from domain.services.points import account_summary
from storage.tables import SurveyCommentRow, SurveySendRow
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.integration.helpers import buy, line, new_member

ADMIN = 900
TOKEN = "123456:DASHBOARD-test-token"
LINKS = login_key(b"k" * 32)  # the key the app signs login links with (its card key's)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@asynccontextmanager
async def client_of(database, program, clock) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a new app (nothing computed in it yet) with its web pages; ADMIN is the
    program's admin."""
    api = create_api(
        lambda: SqlUnitOfWork(database),
        lambda: SqlUnitOfWork(database, read_only=True),
        program,
        clock,
        web=WebSettings(TOKEN, b"k" * 32, admins=frozenset({ADMIN})),
    )
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
        yield client


@pytest.fixture
async def http(database, program, clock) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with its web pages."""
    async with client_of(database, program, clock) as client:
        yield client


async def sign_in(http: httpx.AsyncClient, database, telegram_id: int = ADMIN) -> httpx.Response:
    """Open a fresh login link and post its form, as the page's script does."""
    token = await issue_login(SqlUnitOfWork(database), telegram_id, NOW, LINKS)
    page = await http.get(f"/dashboard/login/{token}")
    assert page.status_code == 200
    assert f'value="{token}"' in page.text
    return await http.post("/dashboard/login", data={"token": token})


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def test_a_login_link_opens_an_8_hour_strict_http_only_session_once(http, database):
    token = await issue_login(SqlUnitOfWork(database), ADMIN, NOW, LINKS)
    answer = await http.post("/dashboard/login", data={"token": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard/metrics"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for part in ("HttpOnly", "SameSite=strict", "Path=/dashboard", f"Max-Age={SESSION_SECONDS}"):
        assert part.lower() in cookie.lower(), cookie
    assert "secure" not in cookie.lower()  # plain http here; https marks it Secure
    assert (await http.get("/dashboard/metrics")).status_code == 200

    http.cookies.clear()
    again = await http.post("/dashboard/login", data={"token": token})
    assert again.status_code == 403
    assert 'data-reason="link_used"' in again.text
    assert "set-cookie" not in again.headers
    assert (await http.get("/dashboard/metrics")).status_code == 401


@pytest.mark.parametrize(
    ("web_url", "base_url"),
    [(None, "https://shop"), ("https://shop.example", "http://shop")],  # behind a proxy
)
async def test_the_session_cookie_is_secure_when_web_url_or_the_request_is_https(
    database, program, clock, web_url, base_url
):
    api = create_api(
        lambda: SqlUnitOfWork(database),
        lambda: SqlUnitOfWork(database, read_only=True),
        program,
        clock,
        web=WebSettings(TOKEN, b"k" * 32, admins=frozenset({ADMIN}), web_url=web_url),
    )
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        answer = await sign_in(client, database)
    assert "; secure" in answer.headers["set-cookie"].lower()


async def test_an_old_link_or_someone_no_longer_admin_is_refused(http, database, clock):
    token = await issue_login(SqlUnitOfWork(database), ADMIN, NOW, LINKS)
    clock.now = NOW + LOGIN_LIFETIME
    assert (await http.post("/dashboard/login", data={"token": token})).status_code == 403
    clock.now = NOW
    refused = await sign_in(http, database, telegram_id=ADMIN + 1)
    assert refused.status_code == 403
    assert 'data-reason="not_admin"' in refused.text
    assert (await http.post("/dashboard/login", data={})).status_code == 403
    assert (await http.post("/dashboard/login", content=b"\xff\xfe")).status_code == 403


async def test_pages_need_a_valid_unexpired_session(http, database, clock):
    for path in ("metrics", "members", "broadcasts", "comments", "audit", "members/ABCD2345"):
        answer = await http.get(f"/dashboard/{path}")
        assert answer.status_code == 401, path
        assert 'data-reason="signed_out"' in answer.text
    await sign_in(http, database)
    value = http.cookies[COOKIE]
    http.cookies.clear()
    forged = value.replace(f"{ADMIN}.", f"{ADMIN + 1}.", 1)
    for cookie, status in ((forged, 401), (value + "0", 401), ("x.y", 401), (value, 200)):
        answer = await http.get("/dashboard/metrics", headers={"Cookie": f"{COOKIE}={cookie}"})
        assert answer.status_code == status, cookie
    clock.now = NOW + timedelta(seconds=SESSION_SECONDS)
    answer = await http.get("/dashboard/metrics", headers={"Cookie": f"{COOKIE}={value}"})
    assert answer.status_code == 401


async def test_pages_load_nothing_from_another_site(http, database):
    await sign_in(http, database)
    page = await http.get("/dashboard/metrics")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    for source in re.findall(r'(?:src|href)="([^"#]+)"', page.text):
        assert source.startswith(("/", "data:image/png;base64,")), source


async def metrics_page(http: httpx.AsyncClient, **period: str) -> httpx.Response:
    """The metrics page once its figures are computed: until then it says so and asks the
    browser to look again (a large program takes seconds; a test machine may too)."""
    for _ in range(300):
        page = await http.get("/dashboard/metrics", params=period)
        assert page.status_code == 200
        if 'id="computing"' not in page.text:
            return page
        assert '<meta http-equiv="refresh" content="2">' in page.text
        await asyncio.sleep(0.1)
    raise AssertionError("the figures were never computed")


async def test_a_period_taking_long_is_computed_in_the_background_meanwhile_the_page_says_so(
    database, program, clock, monkeypatch
):
    computing = asyncio.Event()
    compute = KeptFigures.compute

    async def slow(self: KeptFigures, key: object) -> PeriodFigures:
        await computing.wait()
        return await compute(self, key)

    monkeypatch.setattr(KeptFigures, "compute", slow)
    async with client_of(database, program, clock) as http:  # an app made with `slow`
        await sign_in(http, database)
        # the figures are held until the page answered: a page waiting for them never would
        page = await asyncio.wait_for(
            http.get("/dashboard/metrics", params={"since": "2026-01-01"}), 60
        )
        assert 'id="computing"' in page.text
        assert "data-figure" not in page.text
        computing.set()
        assert 'data-figure="revenue"' in (await metrics_page(http, since="2026-01-01")).text


async def test_metrics_show_the_figures_and_charts_of_a_chosen_period(http, database, program):
    uow = SqlUnitOfWork(database)
    member = await new_member(uow, program, 1)
    await buy(uow, program, member, "R-1", line("X", "coffee", 2, "10"))
    await sign_in(http, database)
    page = await metrics_page(http)
    assert 'data-figure="revenue"' in page.text
    assert len(re.findall(r'<img src="data:image/png;base64,', page.text)) >= 4
    assert "figures of" in page.text  # when they were computed (kept 5 minutes)
    chosen = await metrics_page(http, since="2026-01-01", until="2026-02-01")
    assert 'value="2026-01-01"' in chosen.text
    bad = await http.get(
        "/dashboard/metrics", params={"since": "2026-02-01", "until": "2026-01-01"}
    )
    assert bad.status_code == 200
    assert 'role="alert"' in bad.text
    assert "data-figure" not in bad.text


async def test_members_are_found_and_shown_with_history_and_vouchers(http, database, program):
    uow = SqlUnitOfWork(database)
    member = await new_member(uow, program, 1)
    await update_settings(uow, member.id, first_name="Lucía <b>", phone="+34600111222")
    await buy(uow, program, member, "R-1", line("X", "coffee", 1, "10"))
    await sign_in(http, database)
    for typed in ("lucía", member.code, "+34 600 111 222"):
        found = await http.get("/dashboard/members", params={"q": typed})
        assert f'href="/dashboard/members/{member.code}"' in found.text, typed
        assert "Lucía &lt;b&gt;" in found.text  # escaped
    nobody = await http.get("/dashboard/members", params={"q": "zzz"})
    assert "No member found." in nobody.text
    page = await http.get(f"/dashboard/members/{member.code}")
    assert page.status_code == 200
    assert 'id="history"' in page.text
    assert "Purchase" in page.text
    assert (await http.get("/dashboard/members/ZZZZ9999")).status_code == 404


async def test_an_admin_adjusts_points_with_a_reason_and_csrf_is_required(http, database, program):
    uow = SqlUnitOfWork(database)
    member = await new_member(uow, program, 1)
    start = (await account_summary(uow, program, member.id, NOW)).balance
    await sign_in(http, database)
    page = await http.get(f"/dashboard/members/{member.code}")
    csrf = csrf_of(page)
    adjust = f"/dashboard/members/{member.code}/adjust"

    missing = await http.post(adjust, data={"points": "50", "reason": "sorry"})
    wrong = await http.post(adjust, data={"points": "50", "reason": "sorry", "csrf": "0" * 64})
    assert missing.status_code == wrong.status_code == 403
    assert 'data-reason="csrf"' in missing.text
    assert (await account_summary(uow, program, member.id, NOW)).balance == start

    done = await http.post(adjust, data={"points": "50", "reason": "sorry", "csrf": csrf})
    assert done.status_code == 303
    shown = await http.get(done.headers["location"])
    assert "Points adjusted." in shown.text
    assert (await account_summary(uow, program, member.id, NOW)).balance == start + 50

    for points, reason in (("0", "x"), ("abc", "x"), ("5", " "), ("99999999", "x")):
        refused = await http.post(adjust, data={"points": points, "reason": reason, "csrf": csrf})
        assert refused.status_code == 400, (points, reason)
    too_many = await http.post(
        adjust, data={"points": str(-(start + 51)), "reason": "x", "csrf": csrf}
    )
    assert too_many.status_code == 400
    assert "does not have that many points" in too_many.text
    assert (await account_summary(uow, program, member.id, NOW)).balance == start + 50

    audit = await http.get("/dashboard/audit")
    assert f"telegram:{ADMIN}" in audit.text
    assert "adjustment" in audit.text


async def test_a_form_from_another_session_is_refused(http, database, program):
    uow = SqlUnitOfWork(database)
    member = await new_member(uow, program, 1)
    await sign_in(http, database)
    old_csrf = csrf_of(await http.get(f"/dashboard/members/{member.code}"))
    http.cookies.clear()
    await sign_in(http, database)
    answer = await http.post(
        f"/dashboard/members/{member.code}/adjust",
        data={"points": "5", "reason": "x", "csrf": old_csrf},
    )
    assert answer.status_code == 403


async def test_broadcasts_are_listed_and_a_running_one_cancelled(http, database, program):
    uow = SqlUnitOfWork(database)
    await new_member(uow, program, 1)
    broadcast_id = await queue_broadcast(
        uow, BroadcastContent(text="Hello"), Segment(), "telegram:900", NOW
    )
    await sign_in(http, database)
    page = await http.get("/dashboard/broadcasts")
    assert f'data-broadcast="{broadcast_id}"' in page.text
    cancel = f"/dashboard/broadcasts/{broadcast_id}/cancel"
    assert (await http.post(cancel)).status_code == 403
    done = await http.post(cancel, data={"csrf": csrf_of(page)})
    assert done.status_code == 303
    found = await get_broadcast(uow, broadcast_id)
    assert found is not None
    assert found.state == "cancelled"
    assert "Broadcast stopped." in (await http.get(done.headers["location"])).text


async def test_comments_audit_sign_out_and_spanish(http, database, program):
    uow = SqlUnitOfWork(database)
    admin = await new_member(uow, program, ADMIN)
    await update_settings(uow, admin.id, locale="es")
    await sign_in(http, database)
    comments = await http.get("/dashboard/comments")
    assert "Todavía no hay comentarios." in comments.text
    audit = await http.get("/dashboard/audit")
    assert "dashboard_login" in audit.text
    out = await http.post("/dashboard/logout", data={"csrf": csrf_of(audit)})
    assert out.status_code == 303
    assert (await http.get("/dashboard/audit")).status_code == 401


async def test_survey_comments_are_listed_escaped_with_the_member(http, database, program):
    member = await new_member(SqlUnitOfWork(database), program, 1)
    async with database.writer.begin() as conn:
        send_id = (
            await conn.execute(
                insert(SurveySendRow)
                .values(
                    survey_id="after_purchase",
                    member_id=member.id,
                    trigger="purchase",
                    reference="R-1",
                    created_at=NOW,
                    due_at=NOW,
                )
                .returning(SurveySendRow.c.id)
            )
        ).scalar_one()
        await conn.execute(
            insert(SurveyCommentRow).values(
                send_id=send_id, question="csat", score=2, text="Cold <coffee>", created_at=NOW
            )
        )
    await sign_in(http, database)
    page = await http.get("/dashboard/comments")
    assert "Cold &lt;coffee&gt;" in page.text
    assert f'href="/dashboard/members/{member.code}"' in page.text
    assert "CSAT 2" in page.text


def purchases_shown(page: httpx.Response) -> str:
    """The number of purchases the metrics page shows for its period."""
    found = re.search(
        r'data-figure="purchases"><td>[^<]*</td><td class="num"><b>([^<]*)<', page.text
    )
    assert found, page.text
    return found.group(1)


async def test_the_default_period_kept_by_the_scheduler_is_shown_without_computing(
    database, program, clock
):
    """The job keeps the 30 days before today; a process that never computed them (a fresh
    app) shows the kept figures, then recomputes them in the background once stale."""
    uow = SqlUnitOfWork(database)
    member = await new_member(uow, program, 1, now=NOW - timedelta(days=5))
    yesterday = NOW - timedelta(days=1)
    await buy(uow, program, member, "R-1", line("X", "coffee", 1, "10"), now=yesterday)
    reader = lambda: SqlUnitOfWork(database, read_only=True)  # noqa: E731
    await keep_default_period(reader, lambda: SqlUnitOfWork(database), program, NOW)
    await buy(uow, program, member, "R-2", line("X", "coffee", 1, "10"), now=yesterday)

    async with client_of(database, program, clock) as http:  # a process that computed nothing
        await sign_in(http, database)
        assert purchases_shown(await http.get("/dashboard/metrics")) == "1"  # as kept, at once
        clock.now = NOW + timedelta(seconds=FRESH_SECONDS)
        assert purchases_shown(await http.get("/dashboard/metrics")) == "1"  # at once
        for _ in range(100):  # the refresh runs in the background
            page = await http.get("/dashboard/metrics")
            if purchases_shown(page) == "2":
                break
            await asyncio.sleep(0.05)
        assert purchases_shown(page) == "2"
    async with SqlUnitOfWork(database, read_only=True) as kept_uow:
        kept = await kept_uow.metrics.kept("dashboard/2026-01-31/2026-03-02/en")
    assert kept is not None
    assert kept[0] == clock.now  # the refresh was kept for every process
