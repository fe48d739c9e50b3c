"""Satisfaction surveys in chat: a question with a button per score, a comment after a low one.

The outbox sends a survey's first question (see `domain.services.surveys`); each tap
records that answer once and edits the same message into the next question, then into a
thank-you. After a low score, when the survey asks for one, the thank-you invites a typed
comment: that step is stored in the database like every typed step. Admins read the
comments with /feedback (handlers/feedback.py).
"""

from __future__ import annotations

from typing import cast

from bot.conversation.actions import Action, Answer, Button, Edit, Send
from bot.conversation.buttons import Press, Signer, signed_button
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import callback_id, message_id, refused
from bot.conversation.routes import Feature
from domain.models import ChatState, Member
from domain.program import QuestionKind
from domain.services.conversations import forget_step, remember_step
from domain.services.surveys import answer_survey, leave_comment
from domain.services.surveys import question_context as context_of
from domain.surveys import scale
from messages.render import render

ANSWER = "sa"  # button action: send id, question index, score
COMMENT_STEP = "survey_comment"
ROW = 6  # score buttons per row: 1-5 in one row, 0-10 in two


def question_buttons(
    sign: Signer, telegram_id: int, context: dict[str, object]
) -> tuple[tuple[Button, ...], ...]:
    """A button per score of the question in `context`, signed for this member."""
    kind = cast(QuestionKind, context["kind"])
    send, index = str(context["send"]), str(context["index"])
    scores = [
        signed_button(sign, telegram_id, str(score), ANSWER, send, index, str(score))
        for score in scale(kind)
    ]
    return tuple(tuple(scores[i : i + ROW]) for i in range(0, len(scores), ROW))


async def answer_pressed(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
    """Record a score once, then ask the next question or thank, in the same message."""
    if len(press.args) != 3 or not all(arg.isdigit() for arg in press.args):
        return refused(event, member.locale, "gone")
    send_id, index, score = map(int, press.args)
    answered = await answer_survey(
        ctx.writer(),
        ctx.program,
        member_id=member.id,
        send_id=send_id,
        index=index,
        score=score,
        now=ctx.clock(),
    )
    if answered.status == "gone" or answered.survey is None:
        return refused(event, member.locale, "gone")
    if answered.status == "repeated":
        return [Answer(callback_id(event), render("survey_answered", member.locale))]
    if answered.next_index is not None:
        context = context_of(answered.survey, send_id, answered.next_index)
        return [
            Edit(
                event.chat_id,
                message_id(event),
                render("survey_question", member.locale, **context),
                question_buttons(ctx.sign, event.person.id, context),
            )
        ]
    if answered.comment_on is not None:
        await remember_step(
            ctx.writer(), event.person.id, COMMENT_STEP, {"send": str(send_id)}, ctx.clock()
        )
    return [
        Edit(
            event.chat_id,
            message_id(event),
            render(
                "survey_thanks",
                member.locale,
                points=answered.reward_points,
                balance=answered.balance,
                comment=answered.comment_on is not None,
            ),
        )
    ]


async def typed_comment(
    ctx: Context, event: Incoming, member: Member, state: ChatState
) -> list[Action]:
    """The comment typed after a low score: kept for the admins, then thanks."""
    send = state.data.get("send", "")
    await forget_step(ctx.writer(), event.person.id)
    if send.isdigit():
        await leave_comment(
            ctx.writer(),
            ctx.program,
            member_id=member.id,
            send_id=int(send),
            comment=(event.text or "").strip(),
            now=ctx.clock(),
        )
    return [Send(event.chat_id, render("survey_comment_thanks", member.locale))]


FEATURE = Feature(
    "surveys",
    "member",
    buttons={ANSWER: answer_pressed},
    steps={COMMENT_STEP: typed_comment},
)
