"""/stats for admins: the key figures of the last 30 days against the 30 days before, with
arrows, then the period's charts as photos; a button shows the period before it.

Every figure is the report's (domain.metrics, docs/metrics.md); the charts are
bot/charts.py's, drawn in a worker thread. The button carries the shown period's first
day, signed for the admin like every button.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from bot.charts import period_charts
from bot.conversation.actions import Action, Send
from bot.conversation.buttons import Press, button
from bot.conversation.clerk import Clerk
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import refused
from bot.conversation.routes import Feature
from bot.conversation.texts import labels
from domain.metrics import Metrics
from domain.periods import DEFAULT_DAYS, last_days, local_today, previous, readable_day
from domain.services.metrics import program_metrics
from messages.render import render

PREVIOUS = "mp"  # button action: the shown period's first day, which ends the next one shown
Kind = Literal["count", "money", "percent"]
Figure = int | Decimal | None
# The key figures, in the order shown: template key, how it is written, where it is read.
FIGURES: tuple[tuple[str, Kind, Callable[[Metrics], Figure]], ...] = (
    ("members", "count", lambda m: m.members.total),
    ("new", "count", lambda m: m.members.new),
    ("active", "count", lambda m: m.members.active),
    ("purchases", "count", lambda m: m.purchases),
    ("revenue", "money", lambda m: m.revenue),
    ("average_order", "money", lambda m: m.average_order_value),
    ("repeat_rate", "percent", lambda m: m.repeat_purchase_rate),
    ("retention", "percent", lambda m: m.retention_rate),
    ("issued", "count", lambda m: m.points.issued_total),
    ("redeemed", "count", lambda m: m.points.redeemed),
)


@dataclass(frozen=True)
class KeyFigure:
    """One line of the screen: the figure now and before, and which way it went."""

    key: str
    kind: Kind
    now: Figure
    before: Figure
    trend: Literal["up", "down", "same"] | None  # None when either has no value


def key_figures(now: Metrics, before: Metrics) -> list[KeyFigure]:
    """Each key figure of a period beside the previous period's."""
    return [
        KeyFigure(key, kind, read(now), read(before), trend(read(now), read(before)))
        for key, kind, read in FIGURES
    ]


def trend(now: Figure, before: Figure) -> Literal["up", "down", "same"] | None:
    """Which way a figure went; None when either period has no value for it."""
    if now is None or before is None:
        return None
    return "up" if now > before else "down" if now < before else "same"


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
    now = await program_metrics(ctx.reader(), program, since, until)
    before = await program_metrics(ctx.reader(), program, before_since, since)
    charts = await period_charts(ctx.reader(), program, since, until, now, locale)
    text = render(
        "stats",
        locale,
        days=DEFAULT_DAYS,
        since=since,
        last=until - timedelta(days=1),
        before_since=before_since,
        before_last=since - timedelta(days=1),
        figures=key_figures(now, before),
        currency=program.info.currency,
    )
    earlier = button(
        ctx, clerk.telegram_id, labels(locale)["stats_previous"], PREVIOUS, since.isoformat()
    )
    return [
        *(Send(chat_id, chart.title, photo=chart.png) for chart in charts),
        Send(chat_id, text, buttons=((earlier,),)),
    ]


FEATURE = Feature(
    "stats",
    "admin",
    commands={"stats": stats_command},
    buttons={PREVIOUS: previous_pressed},
)
