"""/feedback for admins: the latest comments members left after a survey's low score."""

from __future__ import annotations

from dataclasses import replace

from bot.conversation.actions import Action, Send
from bot.conversation.clerk import Clerk
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.routes import Feature
from domain.services.surveys import latest_comments
from messages.render import render

FEEDBACK_SHOWN = 8  # comments /feedback lists
FEEDBACK_CHARS = 300  # of each comment shown (the whole list stays within one message)


async def feedback(ctx: Context, event: Incoming, clerk: Clerk) -> list[Action]:
    """/feedback: the latest survey comments, with the member's code only."""
    comments = await latest_comments(ctx.reader(), FEEDBACK_SHOWN)
    shown = [
        c if len(c.text) <= FEEDBACK_CHARS else replace(c, text=c.text[: FEEDBACK_CHARS - 1] + "…")
        for c in comments
    ]
    return [
        Send(
            event.chat_id,
            render("survey_feedback", clerk.locale, comments=shown, zone=ctx.program.info.timezone),
        )
    ]


FEATURE = Feature(
    "feedback",
    "admin",
    commands={"feedback": feedback},
)
