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
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.program import QuestionKind
from domain.surveys import NewSurveySend, SurveyComment, SurveySend
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
    SurveySendRow.id,
    SurveySendRow.survey_id,
    SurveySendRow.member_id,
    SurveySendRow.store,
    SurveySendRow.created_at,
    SurveySendRow.rewarded_at,
)


class SqlSurveys:
    """Implements `domain.ports.SurveyRepository`."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn, self.dialect = conn, dialect

    async def last_asked(self, member_id: int) -> datetime | None:
        """When this member was last asked a survey (queued counts), or None."""
        latest = select(func.max(SurveySendRow.created_at)).where(
            SurveySendRow.member_id == member_id
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
        ).returning(SurveySendRow.id)
        return (await self.conn.execute(statement)).scalar_one_or_none()

    async def receipt_store(self, merchant: str, receipt_id: str) -> str | None:
        """The store a receipt was made in, if it named one."""
        store = select(PurchaseRow.store).where(
            PurchaseRow.merchant == merchant, PurchaseRow.receipt_id == receipt_id
        )
        return (await self.conn.execute(store)).scalar_one_or_none()

    async def send(self, send_id: int, lock: bool = False) -> SurveySend | None:
        """A survey sent, locked until commit with `lock` (answers to it queue up)."""
        statement = select(*SEND).where(SurveySendRow.id == send_id)
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
            select(SurveyAnswerRow.question, SurveyAnswerRow.score).where(
                SurveyAnswerRow.send_id == send_id
            )
        )
        return {question: score for question, score in rows.all()}

    async def mark_rewarded(self, send_id: int, at: datetime) -> bool:
        """Mark the send's bonus paid; False when it already was."""
        result = await self.conn.execute(
            update(SurveySendRow)
            .where(SurveySendRow.id == send_id, SurveySendRow.rewarded_at.is_(None))
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
                MemberRow.code,
                SurveySendRow.survey_id,
                SurveyCommentRow.question,
                SurveyCommentRow.score,
                SurveyCommentRow.text,
                SurveyCommentRow.created_at,
            )
            .join(SurveySendRow, SurveySendRow.id == SurveyCommentRow.send_id)
            .join(MemberRow, MemberRow.id == SurveySendRow.member_id)
            .order_by(SurveyCommentRow.created_at.desc(), SurveyCommentRow.send_id.desc())
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
                SurveySendRow.store, SurveyAnswerRow.question, SurveyAnswerRow.score, func.count()
            )
            .join(SurveySendRow, SurveySendRow.id == SurveyAnswerRow.send_id)
            .where(SurveyAnswerRow.answered_at >= since, SurveyAnswerRow.answered_at < until)
            .group_by(SurveySendRow.store, SurveyAnswerRow.question, SurveyAnswerRow.score)
        )
        return [(store, question, score, int(n)) for store, question, score, n in rows.all()]

    async def cancel_pending(self, member_id: int, template: str, at: datetime) -> int:
        """Cancel this member's queued, unclaimed messages of `template` (surveys turned off)."""
        result = await self.conn.execute(
            update(OutboxRow)
            .where(
                OutboxRow.member_id == member_id,
                OutboxRow.template == template,
                text(PENDING),
                OutboxRow.claimed_by.is_(None),
            )
            .values(state="cancelled", failed_at=at, last_error="surveys turned off")
        )
        return result.rowcount

    async def erase_comments(self, member_id: int) -> int:
        """Delete the comments a member left (on /forget); their scores stay, anonymous."""
        sends = select(SurveySendRow.id).where(SurveySendRow.member_id == member_id)
        result = await self.conn.execute(
            delete(SurveyCommentRow).where(SurveyCommentRow.send_id.in_(sends))
        )
        return result.rowcount
