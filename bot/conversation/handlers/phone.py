"""Sharing a phone number with Telegram's contact button, so tills can find the member."""

from __future__ import annotations

from bot.conversation.actions import Action, Send
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.texts import main_menu
from domain.errors import DuplicateKey, InvalidRequest
from domain.models import Member
from domain.services.members import update_settings
from messages.render import render


async def shared_contact(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """Store the member's own phone; someone else's contact card or a taken number is refused."""
    locale = member.locale
    if event.contact_user_id != event.person.id or not event.contact_phone:
        return [Send(event.chat_id, render("phone_not_yours", locale))]
    try:
        updated = await update_settings(ctx.writer(), member.id, phone=event.contact_phone)
    except InvalidRequest:
        return [Send(event.chat_id, render("phone_invalid", locale))]
    except DuplicateKey:
        return [Send(event.chat_id, render("phone_taken", locale))]
    return [Send(event.chat_id, render("phone_saved", locale, phone=updated.phone),
                 keyboard=main_menu(locale))]
