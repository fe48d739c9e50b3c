"""/stats for admins: the key figures of the last 30 days against the 30 days before, with
arrows, then the period's charts as photos; a button shows the period before it.

Every figure is the report's (domain.metrics, docs/metrics.md); the charts are
bot/charts.py's, drawn in a worker thread. Both come from bot.period_figures, kept there
for the dashboard too (the default period computed ahead by the scheduler). The button
carries the shown period's first day, signed for the admin like every button.
"""

from __future__ import annotations

import base64
from datetime import date, timedelta

from bot.conversation.actions import Action, Send
from bot.conversation.buttons import Press, button
from bot.conversation.clerk import Clerk
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import refused
from bot.conversation.routes import Feature
from bot.conversation.texts import labels
from bot.period_figures import figures_for
from domain.periods import DEFAULT_DAYS, last_days, local_today, previous, readable_day
from messages.render import render

PREVIOUS = "mp"  # button action: the shown period's first day, which ends the next one shown


async def stats_command(ctx: Context, event: Incoming, clerk: Clerk) -> list[Action]:
    """/stats: the last DEFAULT_DAYS days, up to today in the program's time zone."""
    today = local_today(ctx.clock(), ctx.program.info.timezone)
    return await stats_screen(ctx, event.chat_id, clerk, today)


async def previous_pressed(
    ctx: Context, event: Incoming, clerk: Clerk, press: Press
) -> list[Action]:
    """The button under a screen: the period before the one it showed."""
    until = readable_day(press.args[0]) if len(press.args) == 1 else None
    if until is None:
        return refused(event, clerk.locale, "button_invalid")
    return await stats_screen(ctx, event.chat_id, clerk, until)


async def stats_screen(ctx: Context, chat_id: int, clerk: Clerk, until: date) -> list[Action]:
    """The charts of the DEFAULT_DAYS days before `until`, then its key figures against the
    period before, with the button for that period."""
    program, locale = ctx.program, clerk.locale
    since, _ = last_days(until)
    before_since, _ = previous(since, until)
    shown = await figures_for(ctx.reader, ctx.writer, program, (since, until, locale), ctx.clock())
    text = render(
        "stats",
        locale,
        days=DEFAULT_DAYS,
        since=since,
        last=until - timedelta(days=1),
        before_since=before_since,
        before_last=since - timedelta(days=1),
        figures=shown.figures,
        currency=program.info.currency,
    )
    earlier = button(
        ctx, clerk.telegram_id, labels(locale)["stats_previous"], PREVIOUS, since.isoformat()
    )
    return [
        *(Send(chat_id, title, photo=base64.b64decode(png)) for title, png in shown.charts),
        Send(chat_id, text, buttons=((earlier,),)),
    ]


FEATURE = Feature(
    "stats",
    "admin",
    commands={"stats": stats_command},
    buttons={PREVIOUS: previous_pressed},
)
