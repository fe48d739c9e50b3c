"""/card, /balance and /help: what a member sees of their account."""

from __future__ import annotations

from bot.conversation.actions import Action, Send
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.menus import customer_commands, staff_commands
from bot.conversation.texts import progress_bar
from bot.qr import qr_png
from domain.codes import format_code
from domain.models import Member
from domain.services.members import pick_locale
from domain.services.points import account_summary
from domain.services.staff import role_of
from messages.render import render


async def card(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """The loyalty card: a QR code of the member code, the code in text, tier and points."""
    assert member.code is not None
    summary = await account_summary(ctx.reader(), ctx.program, member.id, ctx.clock())
    caption = render("card", member.locale, program=ctx.program, summary=summary,
                     code=format_code(member.code))
    return [Send(event.chat_id, caption, photo=qr_png(member.code))]


async def balance(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """Points, tier progress, points expiring within 30 days and the next reward in reach."""
    summary = await account_summary(ctx.reader(), ctx.program, member.id, ctx.clock())
    text = render("balance", member.locale, summary=summary, p=summary.progress,
                  bar=progress_bar(summary.progress.percent),
                  zone=member.timezone or ctx.program.info.timezone)
    return [Send(event.chat_id, text)]


async def help_(ctx: Context, event: Incoming, member: Member | None) -> list[Action]:
    """Every command this person can use, in their language: a cashier's and an admin's
    own commands too (menus.COMMAND_ROLES, as in their `/` menu)."""
    locale = member.locale if member else pick_locale(ctx.program, event.person.language_code)
    role = await role_of(ctx.reader(), event.person.id, ctx.admins)
    return [Send(event.chat_id, render("help", locale, program=ctx.program,
                                       commands=customer_commands(locale),
                                       staff=staff_commands(role, locale)))]
