"""/help: every command this person can use, in their language, joined or not (a cashier or
an admin who never joined gets theirs too)."""

from __future__ import annotations

from bot.conversation.actions import Action, Send
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.menus import customer_commands, staff_commands
from bot.conversation.routes import Feature
from domain.models import Member
from domain.services.members import pick_locale
from domain.services.staff import role_of
from messages.render import render


async def help_(ctx: Context, event: Incoming, member: Member | None) -> list[Action]:
    """The customer commands, then a cashier's or an admin's own (as in their `/` menu)."""
    locale = member.locale if member else pick_locale(ctx.program, event.person.language_code)
    role = await role_of(ctx.reader(), event.person.id, ctx.admins)
    return [
        Send(
            event.chat_id,
            render(
                "help",
                locale,
                program=ctx.program,
                commands=customer_commands(locale),
                staff=staff_commands(role, locale),
            ),
        )
    ]


FEATURE = Feature(
    "help",
    "anyone",
    commands={"help": help_},
    labels={"menu_help": help_},
)
