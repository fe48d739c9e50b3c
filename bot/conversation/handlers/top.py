"""/top: the month's leaderboard in the program's time zone, with the member's own place.

Members appear by first name only if they chose so in /settings, otherwise as a masked
member code; a program can turn the board off (`[leaderboard] enabled = false`)."""

from __future__ import annotations

from bot.conversation.actions import Action, Send
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.routes import Feature
from domain.models import Member
from domain.services.leaderboard import is_named, leaderboard
from messages.render import render


async def show_top(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """The top places of the month and the member's own, or that there is no leaderboard."""
    if not ctx.program.leaderboard.enabled:
        return [Send(event.chat_id, render("top_off", member.locale))]
    board = await leaderboard(ctx.reader(), ctx.program, member.id, ctx.clock())
    named = await is_named(ctx.reader(), member.id)
    return [Send(event.chat_id, render("top", member.locale, board=board, named=named))]


FEATURE = Feature(
    "top",
    "member",
    commands={"top": show_top},
)
