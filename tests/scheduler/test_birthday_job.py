"""The scheduler's birthday job: every 15 minutes, paying whoever reached 10:00 on their
birthday on their own clock since the last run, once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.scheduler import loyalty_jobs
from domain.program import Action
from domain.services.birthdays import set_birthday
from domain.services.members import update_settings
from storage.uow import SqlUnitOfWork
from tests.integration.helpers import new_member

JOINED = datetime(2025, 6, 1, tzinfo=UTC)


async def test_the_birthday_job_pays_at_10_member_local_once(database, program):
    treating = replace(program, actions=(Action("birthday", "Birthday", "birthday", points=30),))
    member = await new_member(SqlUnitOfWork(database), treating, 1, now=JOINED)
    await update_settings(SqlUnitOfWork(database), member.id, timezone="Asia/Kolkata")
    await set_birthday(SqlUnitOfWork(database), member_id=member.id, month=3, day=10, now=JOINED)
    [job] = [job for job in loyalty_jobs(database, treating) if job.name == "birthdays"]
    assert job.every == timedelta(minutes=15)
    start = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 09:30 in Kolkata
    news = [job.news(await job.run(start + timedelta(minutes=15 * run))) for run in range(4)]
    assert news == [None, None, "birthday treats paid: 1", None]  # 10:00 is the third run
