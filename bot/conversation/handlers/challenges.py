"""/challenges: each challenge with its goal, reward, progress bar and time left, and a
"Join" button for the opt-in ones (a second tap is answered that the member is in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.conversation.actions import Action, Answer, Button, Edit, Send
from bot.conversation.buttons import Press, button
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import callback_id, message_id, refused
from bot.conversation.routes import Feature
from bot.conversation.texts import progress_bar
from domain.challenges import challenge_window
from domain.errors import NotFound
from domain.models import Member
from domain.services.challenges import Standing, challenge_board, join_challenge
from messages.render import render

JOIN = "cj"  # button action: join an opt-in challenge (challenge id)
LAST = timedelta(microseconds=1)  # a window's last moment is just before its end
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


@dataclass(frozen=True)
class Row:
    """One challenge as drawn: its standing, the bar, the time left (in days, rounded up;
    under a day in hours, rounded up) and the last day."""

    standing: Standing
    bar: str
    days_left: int
    hours_left: int
    last_day: datetime | None


async def show_challenges(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """The member's challenges, with a Join button for each they may join."""
    text, buttons = await _view(ctx, event, member)
    return [Send(event.chat_id, text, buttons=buttons)]


async def join(ctx: Context, event: Incoming, member: Member, press: Press) -> list[Action]:
    """Join the challenge once; the toast says so (or that they were in already) and the
    message is redrawn."""
    try:
        joined = await join_challenge(
            ctx.writer(),
            ctx.program,
            member=member,
            challenge_id=press.args[0] if press.args else "",
            now=ctx.clock(),
        )
    except NotFound:
        return refused(event, member.locale, "gone")
    notice = render("challenge_joined", member.locale, challenge=joined.challenge, new=joined.new)
    text, buttons = await _view(ctx, event, member)
    return [
        Answer(callback_id(event), notice, alert=not joined.new),
        Edit(event.chat_id, message_id(event), text, buttons),
    ]


async def _view(
    ctx: Context, event: Incoming, member: Member
) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    now = ctx.clock()
    standings = await challenge_board(ctx.reader(), ctx.program, member, now)
    rows = [_row(ctx, s, now) for s in standings]
    text = render(
        "challenges",
        member.locale,
        rows=rows,
        program=ctx.program,
        currency=ctx.program.info.currency,
        zone=member.timezone or ctx.program.info.timezone,
    )
    buttons = tuple(
        (
            button(
                ctx,
                event.person.id,
                render("challenge_join_button", member.locale, challenge=s.challenge),
                JOIN,
                s.challenge.id,
            ),
        )
        for s in standings
        if s.joinable
    )
    return text, buttons


def _row(ctx: Context, standing: Standing, now: datetime) -> Row:
    """The bar, time left and last day of one standing (a fixed window's dates also before
    the member joins it)."""
    window = standing.window
    if window is None and standing.challenge.days is None:
        window = challenge_window(standing.challenge, ctx.program.info.timezone)
    percent = standing.progress.percent if standing.progress is not None else 0
    if window is None:
        return Row(standing, progress_bar(percent), 0, 0, None)
    left = max(window.ends - now, timedelta(0))
    days = -(-left // DAY) if left >= DAY else 0  # whole days, rounded up: 30 just after joining
    return Row(standing, progress_bar(percent), days, max(1, -(-left // HOUR)), window.ends - LAST)


FEATURE = Feature(
    "challenges",
    "member",
    commands={"challenges": show_challenges},
    buttons={JOIN: join},
)
