"""/stamps: each stamp card of the program drawn with the member's stamps on it
(●●●●○○ 4/6), what earns a stamp and the reward a full card gives."""

from __future__ import annotations

from bot.conversation.actions import Action, Send
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.routes import Feature
from domain.models import Member
from domain.services.stamp_cards import member_cards
from messages.render import render


async def show_stamps(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """The member's stamp cards, or that the program has none."""
    cards = await member_cards(ctx.reader(), ctx.program, member.id)
    text = render("stamps", member.locale, cards=cards, program=ctx.program)
    return [Send(event.chat_id, text)]


FEATURE = Feature(
    "stamps",
    "member",
    commands={"stamps": show_stamps},
)
