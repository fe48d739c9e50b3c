"""The merchant dashboard: server-rendered pages for admins, opened with a one-time link.

`/dashboard` in chat (bot.conversation.handlers.dashboard) gives an admin a link to
`/dashboard/login/<token>`; that page posts the token back (a link preview or a prefetch
that only GETs the page uses nothing), and the post takes the token once and sets an
HttpOnly, SameSite=Strict session cookie for 8 h (Secure when WEB_URL or the request is
HTTPS). Every page checks
the cookie and that the person is still an admin; every form carries the session's CSRF
token. Pages: metrics with charts, members (search, history, vouchers, adjust points),
broadcasts (status, cancel), survey comments, the audit log. The same services as chat.
No `from __future__ import annotations`: FastAPI must evaluate the route annotations.
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qsl, quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.conversation.texts import labels
from bot.period_figures import KeptFigures
from bot.web.period_cache import PATIENCE, PeriodCache
from bot.web.sessions import (
    COOKIE,
    SESSION_SECONDS,
    Session,
    cookie_value,
    csrf_ok,
    csrf_token,
    new_session,
    read_session,
    session_key,
)
from bot.web.site import BROWSER_POLICY, Site, page_response, render_page
from domain.codes import normalize_code
from domain.errors import InsufficientPoints, InvalidRequest, NotFound
from domain.periods import BadPeriod, local_today, named_period
from domain.services.audit import latest_actions
from domain.services.broadcasts import cancel_broadcast, recent_broadcasts
from domain.services.dashboard import login_key, search_members, take_login
from domain.services.members import member_by_code
from domain.services.points import account_summary, adjust_points, history
from domain.services.rewards import member_vouchers
from domain.services.staff import actor
from domain.services.surveys import latest_comments

PREFIX = "/dashboard"
MAX_FORM = 8192  # bytes: the largest form here is a reason of 200 characters
MAX_POINTS = 1_000_000
MAX_REASON = 200
LIST_LIMIT = 100
NOTICES = frozenset({"adjusted", "cancelled"})
Page = Callable[[Request, Session], Awaitable[Response]]


def dashboard_pages(site: Site) -> APIRouter:
    """The dashboard's routes over `site`."""
    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    key = session_key(site.settings.bot_token)
    links = login_key(site.settings.card_key)

    figures = KeptFigures(site.reader, site.writer, site.program)
    periods = PeriodCache(figures.compute, site.clock, store=figures)

    def now_s() -> int:
        return int(site.clock().timestamp())

    def html(template: str, locale: str, status: int = 200, **context: object) -> HTMLResponse:
        return page_response(
            render_page(f"dashboard/{template}.html", locale, program=site.program, **context),
            BROWSER_POLICY,
            status,
        )

    def refused(status: int, reason: str, locale: str | None = None) -> HTMLResponse:
        return html("refused", locale or site.program.info.locales[0], status, reason=reason)

    def session_of(request: Request) -> Session | None:
        session = read_session(key, request.cookies.get(COOKIE, ""), now_s())
        return session if session and session.telegram_id in site.settings.admins else None

    def page(template: str, session: Session, status: int = 200, **context: object) -> HTMLResponse:
        return html(
            template,
            session.locale,
            status,
            csrf=csrf_token(key, session),
            currency=site.program.info.currency,
            zone=site.program.info.timezone,
            **context,
        )

    async def signed_in(request: Request, handler: Page, *, form: bool = False) -> Response:
        """The handler's answer for a signed-in admin; a form also needs its CSRF token."""
        session = session_of(request)
        if session is None:
            return refused(401, "signed_out")
        if form:
            fields = await read_form(request)
            if fields is None or not csrf_ok(key, session, fields.get("csrf", "")):
                return refused(403, "csrf", session.locale)
            request.state.form = fields
        return await handler(request, session)

    @router.get("/login/{token}")
    async def login_page(token: Annotated[str, Path(max_length=64)]) -> HTMLResponse:
        """The link from chat: a button that posts the token (a GET uses nothing)."""
        return html("login", site.program.info.locales[0], token=token)

    @router.post("/login")
    async def login(request: Request) -> Response:
        """Take the one-time token and open an 8 h session; a used or old one is refused."""
        token = (await read_form(request) or {}).get("token", "")[:64]
        try:
            telegram_id = await take_login(site.writer(), token, site.clock(), links)
        except InvalidRequest:
            return refused(403, "link_used")
        if telegram_id not in site.settings.admins:
            return refused(403, "not_admin")
        async with site.reader() as uow:
            member = await uow.members.by_telegram_id(telegram_id)
        locale = member.locale if member else site.program.info.locales[0]
        session = new_session(telegram_id, locale, now_s())
        answer = RedirectResponse(f"{PREFIX}/metrics", status_code=303)
        answer.set_cookie(
            COOKIE,
            cookie_value(key, session),
            max_age=SESSION_SECONDS,
            path=PREFIX,
            secure=request.url.scheme == "https" or https(site.settings.web_url),
            httponly=True,
            samesite="strict",
        )
        return answer

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        """Forget the session cookie."""

        async def out(request: Request, session: Session) -> Response:
            answer = RedirectResponse(f"{PREFIX}/signed-out", status_code=303)
            answer.delete_cookie(COOKIE, path=PREFIX)
            return answer

        return await signed_in(request, out, form=True)

    @router.get("/signed-out")
    async def signed_out() -> HTMLResponse:
        """Where signing out lands."""
        return refused(200, "signed_out")

    @router.get("")
    @router.get("/")
    async def home() -> Response:
        """The first page is the metrics."""
        return RedirectResponse(f"{PREFIX}/metrics", status_code=303)

    @router.get("/metrics")
    async def metrics(
        request: Request,
        since: Annotated[str | None, Query(max_length=32)] = None,
        until: Annotated[str | None, Query(max_length=32)] = None,
    ) -> Response:
        """The key figures of [since, until) (default the last 30 days) against the period
        before, and the period's charts."""

        async def show(request: Request, session: Session) -> Response:
            program = site.program
            today = local_today(site.clock(), program.info.timezone)
            try:
                start, end = named_period(since or None, until or None, today)
            except BadPeriod as bad:
                return page(
                    "metrics", session, error=str(bad), figures=None, charts=[], computing=False
                )
            shown = await periods.get((start, end, session.locale), PATIENCE)
            if shown is None:
                return page(
                    "metrics",
                    session,
                    error=None,
                    figures=None,
                    charts=[],
                    computing=True,
                    since=start,
                    until=end,
                )
            return page(
                "metrics",
                session,
                error=None,
                computing=False,
                since=start,
                until=end,
                last=end - timedelta(days=1),
                figures=shown.value.figures,
                charts=shown.value.charts,
                computed_at=shown.at.astimezone(ZoneInfo(program.info.timezone)),
            )

        return await signed_in(request, show)

    @router.get("/members")
    async def members(request: Request, q: Annotated[str, Query(max_length=64)] = "") -> Response:
        """Search by member code, phone or part of the first name."""

        async def show(request: Request, session: Session) -> Response:
            found = await search_members(site.reader(), q) if q.strip() else []
            return page("members", session, query=q, found=found)

        return await signed_in(request, show)

    @router.get("/members/{code}")
    async def member(
        request: Request,
        code: Annotated[str, Path(max_length=32)],
        page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
        notice: Annotated[str, Query(max_length=16)] = "",
    ) -> Response:
        """A member: balance and tier, history, vouchers, and the adjustment form."""

        async def show(request: Request, session: Session) -> Response:
            return await member_page(session, code, page_number, notice)

        return await signed_in(request, show)

    async def member_page(
        session: Session, code: str, page_number: int, notice: str = "", error: str | None = None
    ) -> Response:
        try:
            found = await member_by_code(site.reader(), code)
        except (NotFound, InvalidRequest):
            return refused(404, "no_member", session.locale)
        summary = await account_summary(
            site.reader(), site.program, found.id, site.clock(), expiring_within=timedelta(days=30)
        )
        return page(
            "member",
            session,
            member=found,
            summary=summary,
            history=await history(site.reader(), found.id, page_number, page_size=20),
            vouchers=await member_vouchers(site.reader(), found.id),
            labels=labels(session.locale),
            now=site.clock(),
            notice=notice if notice in NOTICES else None,
            error=error,
            status=400 if error else 200,
        )

    @router.post("/members/{code}/adjust")
    async def adjust(request: Request, code: Annotated[str, Path(max_length=32)]) -> Response:
        """Add or remove points with a reason, as /adjust does; the audit log names the admin."""

        async def act(request: Request, session: Session) -> Response:
            fields: dict[str, str] = request.state.form
            points, reason = adjustment(fields)
            if points is None or reason is None:
                return await member_page(session, code, 1, error="adjust_invalid")
            try:
                found = await member_by_code(site.reader(), code)
                await adjust_points(
                    site.writer(),
                    site.program,
                    member_id=found.id,
                    points=points,
                    reason=reason,
                    actor=actor(session.telegram_id),
                    now=site.clock(),
                )
            except InsufficientPoints:
                return await member_page(session, code, 1, error="adjust_too_many")
            except (NotFound, InvalidRequest):
                return refused(404, "no_member", session.locale)
            where = quote(normalize_code(code))
            return RedirectResponse(f"{PREFIX}/members/{where}?notice=adjusted", status_code=303)

        return await signed_in(request, act, form=True)

    @router.get("/broadcasts")
    async def broadcasts(
        request: Request, notice: Annotated[str, Query(max_length=16)] = ""
    ) -> Response:
        """The newest broadcasts with their counts; running ones can be cancelled."""

        async def show(request: Request, session: Session) -> Response:
            listed = await recent_broadcasts(site.reader(), limit=50)
            return page(
                "broadcasts",
                session,
                broadcasts=listed,
                notice=notice if notice in NOTICES else None,
            )

        return await signed_in(request, show)

    @router.post("/broadcasts/{broadcast_id}/cancel")
    async def cancel(
        request: Request, broadcast_id: Annotated[int, Path(ge=1, le=2**62)]
    ) -> Response:
        """Stop a broadcast: the messages not yet sent are cancelled."""

        async def act(request: Request, session: Session) -> Response:
            await cancel_broadcast(site.writer(), broadcast_id, site.clock())
            return RedirectResponse(f"{PREFIX}/broadcasts?notice=cancelled", status_code=303)

        return await signed_in(request, act, form=True)

    @router.get("/comments")
    async def comments(request: Request) -> Response:
        """The latest comments members left after a low survey score."""

        async def show(request: Request, session: Session) -> Response:
            listed = await latest_comments(site.reader(), LIST_LIMIT)
            return page("comments", session, comments=listed)

        return await signed_in(request, show)

    @router.get("/audit")
    async def audit(request: Request) -> Response:
        """The newest merchant actions: who, when, what."""

        async def show(request: Request, session: Session) -> Response:
            zone = ZoneInfo(site.program.info.timezone)
            entries = await latest_actions(site.reader(), LIST_LIMIT)
            return page("audit", session, entries=[(e, e.at.astimezone(zone)) for e in entries])

        return await signed_in(request, show)

    return router


def https(url: str | None) -> bool:
    """Whether the pages' public address (WEB_URL) is HTTPS: the cookie is then Secure even
    when a proxy speaks plain HTTP to this server."""
    return bool(url) and str(url).startswith("https://")


async def read_form(request: Request) -> dict[str, str] | None:
    """A small url-encoded form's fields (the last of a repeated name), or None when the
    body is not one."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    body = await request.body()
    if len(body) > MAX_FORM:
        return None
    try:
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return None


def adjustment(fields: dict[str, str]) -> tuple[int | None, str | None]:
    """Points (a whole number, not 0) and a reason (1 to MAX_REASON characters) from the
    form, each None when wrong."""
    typed = fields.get("points", "").strip().replace("+", "", 1)
    points = int(typed) if typed.lstrip("-").isdigit() and len(typed) <= 9 else None
    if points is not None and (points == 0 or abs(points) > MAX_POINTS):
        points = None
    reason = " ".join(fields.get("reason", "").split())
    return points, reason if 0 < len(reason) <= MAX_REASON and "\x00" not in reason else None
