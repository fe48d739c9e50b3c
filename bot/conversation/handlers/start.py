"""/start: join (through a friend's link too), greet a returning member, or add a cashier."""

from __future__ import annotations

from bot.conversation.actions import Action, Send
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.staff import accept_invite
from bot.conversation.texts import main_menu
from domain.referrals import code_from_payload
from domain.services.members import join
from domain.services.points import account_summary
from domain.services.staff import invite_token
from messages.render import render


async def start(ctx: Context, event: Incoming) -> list[Action]:
    """Join with the signup bonus, attributing a referral payload when there is one."""
    payload = event.args
    token = invite_token(payload)
    if token is not None:
        return await accept_invite(ctx, event, token)
    code = code_from_payload(payload) if payload else None
    result = await join(ctx.writer(), ctx.program, telegram_id=event.person.id,
                        first_name=event.person.first_name,
                        language_code=event.person.language_code, now=ctx.clock(),
                        referral_code=code)
    member, locale = result.member, result.member.locale
    name = event.person.first_name or ""
    if result.created:
        text = render("welcome_returning" if result.returning else "welcome", locale,
                      program=ctx.program, name=name, bonus=result.bonus,
                      referral=result.referral)
        if (payload and code is None) or result.referral == "unknown_code":
            text += "\n\n" + render("referral_unknown", locale)
    else:
        summary = await account_summary(ctx.reader(), ctx.program, member.id, ctx.clock())
        text = render("welcome_back", locale, name=name, balance=summary.balance,
                      referral=result.referral)
    return [Send(event.chat_id, text, keyboard=main_menu(locale))]
