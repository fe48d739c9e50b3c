"""/start: join (through a friend's link too), greet a returning member, or add a cashier."""

from __future__ import annotations

from bot.conversation.actions import Action, Send
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.menus import member_menu, staff_menu
from bot.conversation.routes import Feature
from bot.conversation.texts import main_menu
from domain.errors import InvalidRequest
from domain.models import Member
from domain.referrals import code_from_payload
from domain.services.members import join, pick_locale
from domain.services.points import account_summary
from domain.services.staff import Role, accept_staff_invite, invite_token
from messages.render import render


async def start(ctx: Context, event: Incoming, member: Member | None) -> list[Action]:
    """Join with the signup bonus, attributing a referral payload when there is one (`join`
    itself tells a new member, a returning one and one who never left apart)."""
    payload = event.args
    token = invite_token(payload)
    if token is not None:
        return await accept_invite(ctx, event, token)
    code = code_from_payload(payload) if payload else None
    result = await join(
        ctx.writer(),
        ctx.program,
        telegram_id=event.person.id,
        first_name=event.person.first_name,
        language_code=event.person.language_code,
        now=ctx.clock(),
        referral_code=code,
    )
    joined, locale = result.member, result.member.locale
    name = event.person.first_name or ""
    if result.created:
        text = render(
            "welcome_returning" if result.returning else "welcome",
            locale,
            program=ctx.program,
            name=name,
            bonus=result.bonus,
            referral=result.referral,
        )
        if (payload and code is None) or result.referral == "unknown_code":
            text += "\n\n" + render("referral_unknown", locale)
    else:
        summary = await account_summary(ctx.reader(), ctx.program, joined.id, ctx.clock())
        text = render(
            "welcome_back", locale, name=name, balance=summary.balance, referral=result.referral
        )
    actions: list[Action] = [Send(event.chat_id, text, keyboard=main_menu(locale))]
    if result.created and locale != ctx.program.info.locales[0]:
        actions.append(member_menu(ctx, event.chat_id, locale))
    return actions


async def accept_invite(ctx: Context, event: Incoming, token: str) -> list[Action]:
    """Someone opened a staff link (made by /staff add): they become a cashier, with the
    staff commands in their menu, or learn it no longer works."""
    locale = pick_locale(ctx.program, event.person.language_code)
    name = event.person.first_name or event.person.username or str(event.person.id)
    try:
        await accept_staff_invite(ctx.writer(), token, event.person.id, name, ctx.clock())
    except InvalidRequest:
        return [Send(event.chat_id, render("staff_invite_invalid", locale))]
    role: Role = "admin" if event.person.id in ctx.admins else "staff"
    return [
        Send(event.chat_id, render("staff_welcome", locale, program=ctx.program)),
        staff_menu(event.chat_id, role, locale, ctx.web_url),
    ]


FEATURE = Feature(
    "start",
    "anyone",
    commands={"start": start},
)
