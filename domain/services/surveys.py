"""Satisfaction surveys: queued with their trigger, answered by button, figures for reports.

A survey is queued inside the transaction of the purchase, refund or redemption that
triggers it: one outbox row due after the survey's delay and outside the quiet hours,
only for a sampled member who left surveys on and was not asked in the last
`[metrics] survey_min_days`. The first answer to each question counts; the last one pays
the bonus, once, in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from domain import surveys as rules
from domain.errors import NotFound
from domain.ledger import EntryKind, add_months
from domain.models import Member
from domain.ports import Posting, UnitOfWork
from domain.program import Program, QuestionKind, Survey, SurveyTrigger
from domain.surveys import NewSurveySend, Satisfaction, SurveyComment, SurveySend

TEMPLATE = "survey_question"  # the outbox template that asks a survey's first question


@dataclass(frozen=True)
class Trigger:
    """Something a member did that a survey may follow: what, and its reference
    (`receipt:<id>`, `refund:<id>`, `voucher:<code>`), with the receipt's store."""

    member: Member
    kind: SurveyTrigger
    reference: str
    store: str | None = None


def asks(program: Program, kind: SurveyTrigger) -> bool:
    """Whether any survey follows this kind of trigger (so callers skip reading for none)."""
    return any(survey.trigger == kind for survey in program.surveys)


async def queue_surveys(
    uow: UnitOfWork, program: Program, triggers: list[Trigger], now: datetime
) -> int:
    """Queue, inside the caller's transaction, the surveys these triggers ask; how many."""
    queued = 0
    for trigger in triggers:
        for survey in program.surveys:
            if survey.trigger == trigger.kind and await _queue(uow, program, survey, trigger, now):
                queued += 1
    return queued


async def _queue(
    uow: UnitOfWork, program: Program, survey: Survey, trigger: Trigger, now: datetime
) -> bool:
    member = trigger.member
    if (
        not survey.questions
        or not member.surveys_opt_in
        or member.telegram_id is None
        or member.forgotten_at is not None
        or not rules.sampled(survey, member.id, trigger.reference)
    ):
        return False
    last = await uow.surveys.last_asked(member.id)
    if last is not None and last > now - timedelta(days=program.metrics.survey_min_days):
        return False
    due = rules.ask_at(
        now,
        survey.delay_minutes,
        member.timezone or program.info.timezone,
        program.nudges.quiet_hours,
    )
    send_id = await uow.surveys.add_send(
        NewSurveySend(
            survey.id, member.id, trigger.kind, trigger.reference, trigger.store, now, due
        )
    )
    if send_id is None:  # this trigger already asked this survey (a re-run)
        return False
    await uow.outbox.add(
        member.id,
        TEMPLATE,
        question_context(survey, send_id, 0),
        now,
        dedupe_key=f"survey:{send_id}",
        due_at=due,
    )
    return True


def question_context(survey: Survey, send_id: int, index: int) -> dict[str, object]:
    """What the question message shows and its buttons carry (JSON, kept in the outbox)."""
    return {
        "send": send_id,
        "survey": survey.id,
        "index": index,
        "kind": survey.questions[index],
        "count": len(survey.questions),
    }


@dataclass(frozen=True)
class Answered:
    """What an answer did: `recorded`, `repeated` (answered before, nothing changed) or
    `gone` (not this member's, or the survey left the program); what comes next."""

    status: Literal["recorded", "repeated", "gone"]
    survey: Survey | None = None
    next_index: int | None = None  # the next question to ask, None when all are answered
    reward_points: int = 0  # paid with this answer
    balance: int | None = None  # after the bonus, when one was paid
    comment_on: QuestionKind | None = None  # ask for a comment about this low score


async def answer_survey(
    uow: UnitOfWork,
    program: Program,
    *,
    member_id: int,
    send_id: int,
    index: int,
    score: int,
    now: datetime,
) -> Answered:
    """Record one answer once; with the last answer, pay the bonus once."""
    async with uow:
        await uow.members.lock(member_id)
        send = await uow.surveys.send(send_id, lock=True)
        survey = _survey_of(program, send, member_id)
        if survey is None or not 0 <= index < len(survey.questions):
            return Answered("gone")
        kind = survey.questions[index]
        if score not in rules.scale(kind):
            return Answered("gone")
        recorded = await uow.surveys.add_answer(send_id, kind, score, now)
        answers = await uow.surveys.answers(send_id)
        left = [i for i, question in enumerate(survey.questions) if question not in answers]
        if not recorded:
            return Answered("repeated", survey, left[0] if left else None)
        if left:
            return Answered("recorded", survey, left[0])
        points, balance = await _reward(uow, program, survey, member_id, send_id, now)
        return Answered("recorded", survey, None, points, balance, _comment_on(survey, answers))


async def _reward(
    uow: UnitOfWork, program: Program, survey: Survey, member_id: int, send_id: int, now: datetime
) -> tuple[int, int | None]:
    """Pay the survey's bonus through the ledger, once per send."""
    if not survey.reward_points or not await uow.surveys.mark_rewarded(send_id, now):
        return 0, None
    posting = Posting(
        member_id, EntryKind.BONUS, now, reason=f"survey {survey.id}", reference=f"survey:{send_id}"
    )
    posted = await uow.ledger.credit(
        posting, survey.reward_points, add_months(now, program.expiry.months)
    )
    return survey.reward_points, posted.balance


def _comment_on(survey: Survey, answers: dict[str, int]) -> QuestionKind | None:
    """The first question answered low, when the survey asks for comments."""
    if not survey.comment:
        return None
    return next((q for q in survey.questions if rules.is_low(q, answers[q])), None)


def _survey_of(program: Program, send: SurveySend | None, member_id: int) -> Survey | None:
    """The survey of a send of this member still in the program, else None."""
    if send is None or send.member_id != member_id:
        return None
    return program.survey(send.survey_id)


async def leave_comment(
    uow: UnitOfWork, program: Program, *, member_id: int, send_id: int, comment: str, now: datetime
) -> bool:
    """Keep the comment on a send's low score; False when there is none to comment on or
    one was left already."""
    async with uow:
        send = await uow.surveys.send(send_id)
        survey = _survey_of(program, send, member_id)
        if survey is None:
            return False
        answers = await uow.surveys.answers(send_id)
        if len(answers) < len(survey.questions):
            return False
        kind = _comment_on(survey, answers)
        if kind is None:
            return False
        return await uow.surveys.add_comment(
            send_id, kind, answers[kind], comment[: rules.MAX_COMMENT], now
        )


async def latest_comments(uow: UnitOfWork, limit: int) -> list[SurveyComment]:
    """The newest survey comments, for admins."""
    async with uow:
        return list(await uow.surveys.comments(limit))


async def satisfaction(uow: UnitOfWork, since: datetime, until: datetime) -> Satisfaction:
    """`csat`, `ces` and `nps` of the answers given in [since, until), per store too."""
    async with uow:
        return rules.satisfaction_of(await uow.surveys.counts(since, until))


async def set_surveys(uow: UnitOfWork, member_id: int, on: bool, now: datetime) -> Member:
    """Turn a member's surveys on or off; off also cancels the ones queued and not sent."""
    async with uow:
        await uow.members.update_profile(member_id, surveys_opt_in=on)
        if not on:
            await uow.surveys.cancel_pending(member_id, TEMPLATE, now)
        member = await uow.members.get(member_id)
        if member is None:
            raise NotFound("member", member_id)
        return member
