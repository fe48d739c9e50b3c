"""The members' Mini App: their card, points, rewards, causes, challenges and history,
opened inside Telegram from the bot's menu button or the button under /card.

`GET /app/` is the page itself (no member data: it is the same for everyone); its script
asks for each screen with the member's signed `initData` and shows the HTML the server
renders in the member's language from the same services the chat uses. The member is
always the one the initData names: no route takes a member id or code from the request.

Redeeming and donating take two steps, as in the chat: a confirm screen carries a one-off
request id made by the server, and the action with that id acts at most once (a double
tap or a replayed request shows the first result and spends nothing more). No `from
__future__ import annotations`: FastAPI must evaluate the route annotations.
"""

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from bot.conversation.texts import labels
from bot.conversation.typed import TypedNumberError, whole_number
from bot.qr import qr_svg
from bot.settings import MINI_APP_PATH
from bot.web.site import Site, page_response, render_page
from bot.web.telegram_auth import WebAppUser
from domain.card_codes import signed_card_code
from domain.codes import format_code
from domain.donations import impact
from domain.errors import InsufficientPoints, NotFound, RewardUnavailable
from domain.models import Member
from domain.services.challenges import challenge_board, join_challenge
from domain.services.conversations import member_and_step
from domain.services.donations import MAX_DONATION, causes_overview, donate
from domain.services.members import pick_locale
from domain.services.points import account_summary, history
from domain.services.rewards import catalogue, member_vouchers, redeem_reward
from domain.services.stamp_cards import member_cards

APP_PATH = MINI_APP_PATH
SCREENS = "/app/screen"
REQUEST_ID = r"^[A-Za-z0-9_-]{16,64}$"
HISTORY_PAGE = 15


class RedeemIn(BaseModel):
    """A confirmed redemption: the reward and the confirm screen's request id."""

    reward: str = Field(min_length=1, max_length=64)
    request: str = Field(pattern=REQUEST_ID)


class DonateIn(BaseModel):
    """A confirmed donation: the cause, the points and the confirm screen's request id."""

    cause: str = Field(min_length=1, max_length=64)
    points: int = Field(ge=1, le=MAX_DONATION)
    request: str = Field(pattern=REQUEST_ID)


class JoinIn(BaseModel):
    """Joining an opt-in challenge."""

    challenge: str = Field(min_length=1, max_length=64)


@dataclass(frozen=True)
class Viewer:
    """The member the initData names, in their language (None: not joined yet)."""

    member: Member | None
    locale: str


def member_app(site: Site) -> APIRouter:
    """The Mini App's routes over `site`."""
    router = APIRouter(include_in_schema=False)
    program = site.program

    async def viewer(user: Annotated[WebAppUser, Depends(site.telegram_user)]) -> Viewer:
        member, _ = await member_and_step(site.reader(), user.id, site.clock())
        if member is None or member.code is None:
            return Viewer(None, pick_locale(program, user.language_code))
        return Viewer(member, member.locale)

    Viewed = Annotated[Viewer, Depends(viewer)]  # noqa: N806 (a type, for the routes)

    def screen(viewer: Viewer, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        member = viewer.member
        zone = (member.timezone if member else None) or program.info.timezone
        html = render_page(
            f"member/{template}.html",
            viewer.locale,
            program=program,
            member=member,
            screens=SCREENS,
            zone=zone,
            tabs=tabs(),
            **context,
        )
        return page_response(html, status=status)

    def tabs() -> list[str]:
        shown = ["card", "rewards"]
        if program.causes:
            shown.append("causes")
        if program.stamps or program.challenges:
            shown.append("goals")
        return [*shown, "history"]

    @router.get(APP_PATH)
    async def shell(request: Request) -> HTMLResponse:
        """The page Telegram opens, in the language the app asks for; its script loads the
        screens (which are in the member's own language)."""
        spoken = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0]
        locale = pick_locale(program, spoken.strip() or None)
        html = render_page("member/app.html", locale, program=program, start=f"{SCREENS}/card")
        return page_response(html)

    @router.get(f"{SCREENS}/card")
    async def card(viewer: Viewed) -> HTMLResponse:
        """The card: a short-lived QR code, the member code, points, tier, expiring points."""
        member = viewer.member
        if member is None:
            return screen(viewer, "not_joined")
        summary = await account_summary(site.reader(), program, member.id, site.clock())
        return screen(viewer, "card", summary=summary, qr=card_qr(member))

    @router.get(f"{SCREENS}/qr")
    async def qr(viewer: Viewed) -> HTMLResponse:
        """A fresh QR code for the card (the page asks before the last one expires)."""
        member = viewer.member
        if member is None:
            return screen(viewer, "not_joined")
        return screen(viewer, "qr", qr=card_qr(member))

    def card_qr(member: Member) -> dict[str, Any]:
        assert member.code is not None
        signed = signed_card_code(member.code, site.clock(), site.settings.card_key)
        return {
            "svg": qr_svg(signed),
            "code": format_code(member.code),
            "seconds": site.settings.card_qr_seconds,
        }

    @router.get(f"{SCREENS}/rewards")
    async def rewards(viewer: Viewed) -> HTMLResponse:
        """The catalogue as this member sees it, and their vouchers."""
        member = viewer.member
        if member is None:
            return screen(viewer, "not_joined")
        shown = await catalogue(site.reader(), program, member)
        vouchers = await member_vouchers(site.reader(), member.id)
        return screen(
            viewer, "rewards", shelf=shown, vouchers=vouchers[:10], now=site.clock(), notice=None
        )

    @router.get(f"{SCREENS}/redeem")
    async def confirm_redeem(
        viewer: Viewed, reward: Annotated[str, Query(max_length=64)] = ""
    ) -> HTMLResponse:
        """Ask to confirm a redemption, with a one-off request id."""
        member = viewer.member
        if member is None:
            return screen(viewer, "not_joined")
        shown = await catalogue(site.reader(), program, member)
        entry = next((e for e in shown.entries if e.reward.id == reward), None)
        if entry is None:
            return await refused_rewards(viewer, member, "gone", status=404)
        return screen(
            viewer,
            "redeem_confirm",
            entry=entry,
            balance=shown.balance,
            request_id=secrets.token_urlsafe(18),
        )

    @router.post("/app/redeem")
    async def redeem(viewer: Viewed, body: RedeemIn) -> HTMLResponse:
        """Redeem once per request id; the voucher shows at once (the same one again for a
        repeated request)."""
        member = viewer.member
        if member is None:
            return screen(viewer, "not_joined", status=404)
        try:
            done = await redeem_reward(
                site.writer(),
                program,
                member_id=member.id,
                reward_id=body.reward,
                now=site.clock(),
                request_id=f"web-{body.request}",
            )
        except InsufficientPoints as short:
            needed = short.needed - short.available
            return await refused_rewards(viewer, member, short.code, needed=needed, status=409)
        except RewardUnavailable as unavailable:
            return await refused_rewards(viewer, member, unavailable.reason, status=409)
        except NotFound:
            return await refused_rewards(viewer, member, "gone", status=404)
        code = format_code(done.voucher.code)
        return screen(viewer, "voucher", done=done, code=code, qr=qr_svg(done.voucher.code))

    async def refused_rewards(
        viewer: Viewer, member: Member, reason: str, needed: int = 0, status: int = 409
    ) -> HTMLResponse:
        shown = await catalogue(site.reader(), program, member)
        vouchers = await member_vouchers(site.reader(), member.id)
        notice = {"reason": reason, "needed": needed}
        return screen(
            viewer,
            "rewards",
            status=status,
            shelf=shown,
            vouchers=vouchers[:10],
            now=site.clock(),
            notice=notice,
        )

    @router.get(f"{SCREENS}/causes")
    async def causes(viewer: Viewed) -> HTMLResponse:
        """Every cause with its progress and a form to give points."""
        member = viewer.member
        if member is None:
            return screen(viewer, "not_joined")
        return await causes_screen(viewer, member)

    async def causes_screen(
        viewer: Viewer, member: Member, refusal: Any = None, status: int = 200, **extra: Any
    ) -> HTMLResponse:
        summary = await account_summary(site.reader(), program, member.id, site.clock())
        shown = await causes_overview(site.reader(), program)
        return screen(
            viewer,
            "causes",
            status=status,
            causes=shown,
            balance=summary.balance,
            refusal=refusal,
            **extra,
        )

    @router.get(f"{SCREENS}/donate")
    async def confirm_donation(
        viewer: Viewed,
        cause: Annotated[str, Query(max_length=64)] = "",
        points: Annotated[str, Query(max_length=32)] = "",
    ) -> HTMLResponse:
        """Ask to confirm a gift of the points typed, with a one-off request id; the causes
        again with the reason when the amount does not fit."""
        member = viewer.member
        if member is None:
            return screen(viewer, "not_joined")
        chosen = program.cause(cause)
        if chosen is None:
            return await causes_screen(viewer, member, status=404, gone=True)
        summary = await account_summary(site.reader(), program, member.id, site.clock())
        try:
            amount = whole_number(points, minimum=1, maximum=min(summary.balance, MAX_DONATION))
        except TypedNumberError as refusal:
            return await causes_screen(
                viewer, member, refusal, status=422, chosen=chosen.id, typed=points
            )
        return screen(
            viewer,
            "donate_confirm",
            cause=chosen,
            points=amount,
            impact=impact(chosen, amount),
            request_id=secrets.token_urlsafe(18),
        )

    @router.post("/app/donate")
    async def give(viewer: Viewed, body: DonateIn) -> HTMLResponse:
        """Give once per request id, then thank (the same thanks again for a repeat)."""
        member = viewer.member
        if member is None:
            return screen(viewer, "not_joined", status=404)
        try:
            outcome = await donate(
                site.writer(),
                program,
                member_id=member.id,
                cause_id=body.cause,
                points=body.points,
                now=site.clock(),
                request_id=f"web-{body.request}",
            )
        except InsufficientPoints as short:
            notice = {"reason": short.code, "needed": short.needed - short.available}
            return await causes_screen(viewer, member, status=409, notice=notice)
        except NotFound:
            return await causes_screen(viewer, member, status=404, gone=True)
        return screen(viewer, "donated", outcome=outcome)

    @router.get(f"{SCREENS}/goals")
    async def goals(viewer: Viewed) -> HTMLResponse:
        """The member's challenges (progress, Join) and stamp cards (the stamps on each and
        the reward a full card gives)."""
        member = viewer.member
        if member is None:
            return screen(viewer, "not_joined")
        return await goals_screen(viewer, member)

    async def goals_screen(viewer: Viewer, member: Member, **extra: Any) -> HTMLResponse:
        standings = await challenge_board(site.reader(), program, member, site.clock())
        cards = await member_cards(site.reader(), program, member.id)
        currency = program.info.currency
        return screen(viewer, "goals", standings=standings, cards=cards, currency=currency, **extra)

    @router.post("/app/join")
    async def join(viewer: Viewed, body: JoinIn) -> HTMLResponse:
        """Join an opt-in challenge (once: joining again only says so)."""
        member = viewer.member
        if member is None:
            return screen(viewer, "not_joined", status=404)
        try:
            joined = await join_challenge(
                site.writer(), program, member=member, challenge_id=body.challenge, now=site.clock()
            )
        except NotFound:
            return await goals_screen(viewer, member, status=404, gone=True)
        return await goals_screen(viewer, member, joined=joined)

    @router.get(f"{SCREENS}/history")
    async def points_history(
        viewer: Viewed, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1
    ) -> HTMLResponse:
        """The member's points history, newest first, a page at a time."""
        member = viewer.member
        if member is None:
            return screen(viewer, "not_joined")
        shown = await history(site.reader(), member.id, page, HISTORY_PAGE)
        return screen(viewer, "history", page=shown, kinds=labels(viewer.locale))

    return router
