"""Sharing a phone number with Telegram's contact button, so tills can find the member (and
the program's `phone` action, if any, pays once)."""

from __future__ import annotations

from bot.conversation.actions import Action, Send
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.routes import Feature
from bot.conversation.texts import main_menu
from domain.errors import DuplicateKey, InvalidRequest
from domain.models import Member
from domain.services.actions import phone_shared
from domain.services.phones import share_phone
from messages.render import render


async def shared_contact(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """Store the member's own phone; someone else's contact card or a taken number is refused."""
    locale = member.locale
    if event.contact_user_id != event.person.id or not event.contact_phone:
        return [Send(event.chat_id, render("phone_not_yours", locale))]
    try:
        shared = await share_phone(
            ctx.writer(),
            ctx.program,
            member_id=member.id,
            phone=event.contact_phone,
            now=ctx.clock(),
        )
    except InvalidRequest:
        return [Send(event.chat_id, render("phone_invalid", locale))]
    except DuplicateKey:
        return [Send(event.chat_id, render("phone_taken", locale))]
    claimed = await phone_shared(ctx.writer(), ctx.program, member_id=member.id, now=ctx.clock())
    return [
        Send(
            event.chat_id,
            render(
                "phone_saved",
                locale,
                phone=shared.phone,
                receipts=len(shared.credited),
                points=shared.points,
                action=claimed if claimed and claimed.new else None,
            ),
            keyboard=main_menu(locale),
        )
    ]


FEATURE = Feature(
    "phone",
    "member",
    contact=shared_contact,
)
