"""/history: the member's ledger, newest first, paged with inline buttons."""

from __future__ import annotations

from bot.conversation.actions import Action, Button, Edit, Send
from bot.conversation.buttons import Press, button
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import message_id
from bot.conversation.routes import Feature
from bot.conversation.texts import labels
from domain.models import Member
from domain.services.points import HistoryPage, history
from messages.render import render

PAGE_SIZE = 8
PAGE = "h"  # button action: the page to show


async def show_history(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """The first page."""
    text, buttons = await _page(ctx, event, member, 1)
    return [Send(event.chat_id, text, buttons=buttons)]


async def turn_page(ctx: Context, event: Incoming, member: Member, press: Press) -> list[Action]:
    """Another page, in place of the one shown."""
    page = int(press.args[0]) if press.args and press.args[0].isdigit() else 1
    text, buttons = await _page(ctx, event, member, page)
    return [Edit(event.chat_id, message_id(event), text, buttons)]


async def _page(
    ctx: Context, event: Incoming, member: Member, number: int
) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    page = await history(ctx.reader(), member.id, number, PAGE_SIZE)
    names = labels(member.locale)
    kinds = {
        key.removeprefix("kind_"): text for key, text in names.items() if key.startswith("kind_")
    }
    text = render(
        "history",
        member.locale,
        page=page,
        kinds=kinds,
        zone=member.timezone or ctx.program.info.timezone,
        program=ctx.program,
    )
    return text, _navigation(ctx, event, names, page)


def _navigation(
    ctx: Context, event: Incoming, names: dict[str, str], page: HistoryPage
) -> tuple[tuple[Button, ...], ...]:
    row = []
    if page.page < page.pages:
        row.append(button(ctx, event.person.id, names["older"], PAGE, str(page.page + 1)))
    if page.page > 1:
        row.append(button(ctx, event.person.id, names["newer"], PAGE, str(page.page - 1)))
    return (tuple(row),) if row else ()


FEATURE = Feature(
    "history",
    "member",
    commands={"history": show_history},
    buttons={PAGE: turn_page},
)
