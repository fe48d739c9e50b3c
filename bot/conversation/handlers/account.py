"""/card and /balance: what a member sees of their account."""

from __future__ import annotations

from bot.conversation.actions import Action, Button, Send
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.routes import Feature
from bot.conversation.texts import labels, progress_bar
from bot.qr import qr_png
from bot.settings import MINI_APP_PATH
from domain.codes import format_code
from domain.models import Member
from domain.services.points import account_summary
from messages.render import render


async def card(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """The loyalty card: a QR code of the member code, the code in text, tier and points; a
    button opens the Mini App when there is one (WEB_URL)."""
    assert member.code is not None
    summary = await account_summary(ctx.reader(), ctx.program, member.id, ctx.clock())
    caption = render(
        "card", member.locale, program=ctx.program, summary=summary, code=format_code(member.code)
    )
    buttons: tuple[tuple[Button, ...], ...] = ()
    if ctx.web_url:
        app = f"{ctx.web_url}{MINI_APP_PATH}"
        buttons = ((Button(labels(member.locale)["open_app"], web_app=app),),)
    return [Send(event.chat_id, caption, photo=qr_png(member.code), buttons=buttons)]


async def balance(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """Points, tier progress, points expiring within 30 days and the next reward in reach."""
    summary = await account_summary(ctx.reader(), ctx.program, member.id, ctx.clock())
    text = render(
        "balance",
        member.locale,
        program=ctx.program,
        summary=summary,
        p=summary.progress,
        bar=progress_bar(summary.progress.percent),
        zone=member.timezone or ctx.program.info.timezone,
    )
    return [Send(event.chat_id, text)]


FEATURE = Feature(
    "account",
    "member",
    commands={"card": card, "balance": balance},
    labels={"menu_card": card, "menu_balance": balance},
)
