"""Surveys asked, their answers (one per question) and comments, and the answer counts.

Unique keys carry the rules: one send per survey, member and trigger (a re-run asks no
one twice), one answer per send and question (a second tap changes nothing), one comment
per send. The figures are counted in the database, grouped by store, question and score.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import delete, func, select, text, update

from domain.program import QuestionKind
from domain.surveys import NewSurveySend, SurveyComment, SurveySend
from storage.aio import AsyncConnection
from storage.repositories.upsert import insert_ignoring_conflict
from storage.tables import (
    PENDING,
    MemberRow,
    OutboxRow,
    PurchaseRow,
    SurveyAnswerRow,
    SurveyCommentRow,
    SurveySendRow,
)

SEND = (
    SurveySendRow.c.id,
    SurveySendRow.c.survey_id,
    SurveySendRow.c.member_id,
    SurveySendRow.c.store,
    SurveySendRow.c.created_at,
    SurveySendRow.c.rewarded_at,
)


class SqlSurveys:
    """Implements `domain.ports.SurveyRepository`."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn, self.dialect = conn, dialect

    async def last_asked(self, member_id: int) -> datetime | None:
        """When this member was last asked a survey (queued counts), or None."""
        latest = select(func.max(SurveySendRow.c.created_at)).where(
            SurveySendRow.c.member_id == member_id
        )
        return cast(datetime | None, (await self.conn.execute(latest)).scalar_one())

    async def add_send(self, send: NewSurveySend) -> int | None:
        """The new send's id; None when this survey already asked this member after this
        trigger."""
        statement = insert_ignoring_conflict(
            self.dialect,
            SurveySendRow,
            survey_id=send.survey_id,
            member_id=send.member_id,
            trigger=send.trigger,
            reference=send.reference,
            store=send.store,
            created_at=send.created_at,
            due_at=send.due_at,
        ).returning(SurveySendRow.c.id)
        found: int | None = (await self.conn.execute(statement)).scalar_one_or_none()
        return found

    async def receipt_store(self, merchant: str, receipt_id: str) -> str | None:
        """The store a receipt was made in, if it named one."""
        store = select(PurchaseRow.c.store).where(
            PurchaseRow.c.merchant == merchant, PurchaseRow.c.receipt_id == receipt_id
        )
        return (await self.conn.execute(store)).scalar_one_or_none()

    async def send(self, send_id: int, lock: bool = False) -> SurveySend | None:
        """A survey sent, locked until commit with `lock` (answers to it queue up)."""
        statement = select(*SEND).where(SurveySendRow.c.id == send_id)
        row = (
            await self.conn.execute(statement.with_for_update() if lock else statement)
        ).one_or_none()
        return None if row is None else SurveySend(*row)

    async def add_answer(self, send_id: int, question: str, score: int, at: datetime) -> bool:
        """Record an answer; False when this question of this send was answered before."""
        statement = insert_ignoring_conflict(
            self.dialect,
            SurveyAnswerRow,
            send_id=send_id,
            question=question,
            score=score,
            answered_at=at,
        )
        return bool((await self.conn.execute(statement)).rowcount)

    async def answers(self, send_id: int) -> dict[str, int]:
        """The answers given to a send: question -> score."""
        rows = await self.conn.execute(
            select(SurveyAnswerRow.c.question, SurveyAnswerRow.c.score).where(
                SurveyAnswerRow.c.send_id == send_id
            )
        )
        return {question: score for question, score in rows.all()}

    async def mark_rewarded(self, send_id: int, at: datetime) -> bool:
        """Mark the send's bonus paid; False when it already was."""
        result = await self.conn.execute(
            update(SurveySendRow)
            .where(SurveySendRow.c.id == send_id, SurveySendRow.c.rewarded_at.is_(None))
            .values(rewarded_at=at)
        )
        return bool(result.rowcount)

    async def add_comment(
        self, send_id: int, question: str, score: int, comment: str, at: datetime
    ) -> bool:
        """Keep the send's comment; False when it already has one."""
        statement = insert_ignoring_conflict(
            self.dialect,
            SurveyCommentRow,
            send_id=send_id,
            question=question,
            score=score,
            text=comment,
            created_at=at,
        )
        return bool((await self.conn.execute(statement)).rowcount)

    async def comments(self, limit: int) -> Sequence[SurveyComment]:
        """The latest comments, newest first."""
        rows = await self.conn.execute(
            select(
                MemberRow.c.code,
                SurveySendRow.c.survey_id,
                SurveyCommentRow.c.question,
                SurveyCommentRow.c.score,
                SurveyCommentRow.c.text,
                SurveyCommentRow.c.created_at,
            )
            .join(SurveySendRow, SurveySendRow.c.id == SurveyCommentRow.c.send_id)
            .join(MemberRow, MemberRow.c.id == SurveySendRow.c.member_id)
            .order_by(SurveyCommentRow.c.created_at.desc(), SurveyCommentRow.c.send_id.desc())
            .limit(limit)
        )
        return [
            SurveyComment(code, survey, cast(QuestionKind, question), score, body, at)
            for code, survey, question, score, body, at in rows.all()
        ]

    async def counts(
        self, since: datetime, until: datetime
    ) -> Sequence[tuple[str | None, str, int, int]]:
        """Answers in [since, until) counted by (store, question, score)."""
        rows = await self.conn.execute(
            select(
                SurveySendRow.c.store,
                SurveyAnswerRow.c.question,
                SurveyAnswerRow.c.score,
                func.count(),
            )
            .join(SurveySendRow, SurveySendRow.c.id == SurveyAnswerRow.c.send_id)
            .where(SurveyAnswerRow.c.answered_at >= since, SurveyAnswerRow.c.answered_at < until)
            .group_by(SurveySendRow.c.store, SurveyAnswerRow.c.question, SurveyAnswerRow.c.score)
        )
        return [(store, question, score, int(n)) for store, question, score, n in rows.all()]

    async def cancel_pending(self, member_id: int, template: str, at: datetime) -> int:
        """Cancel this member's queued, unclaimed messages of `template` (surveys turned off)."""
        result = await self.conn.execute(
            update(OutboxRow)
            .where(
                OutboxRow.c.member_id == member_id,
                OutboxRow.c.template == template,
                text(PENDING),
                OutboxRow.c.claimed_by.is_(None),
            )
            .values(state="cancelled", failed_at=at, last_error="surveys turned off")
        )
        return result.rowcount

    async def erase_comments(self, member_id: int) -> int:
        """Delete the comments a member left (on /forget); their scores stay, anonymous."""
        sends = select(SurveySendRow.c.id).where(SurveySendRow.c.member_id == member_id)
        result = await self.conn.execute(
            delete(SurveyCommentRow).where(SurveyCommentRow.c.send_id.in_(sends))
        )
        return result.rowcount
