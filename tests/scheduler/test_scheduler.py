"""The scheduler in-process: every job runs once on start (catching up), then on its interval."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.scheduler import Job, run_scheduler
from storage.tables import OutboxRow
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.integration.helpers import new_member


async def scheduled_for(seconds: float, *args: object, **kwargs: object) -> None:
    task = asyncio.create_task(run_scheduler(*args, **kwargs))  # type: ignore[arg-type]
    await asyncio.sleep(seconds)
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


async def test_a_job_runs_once_at_start_then_waits_its_interval(database, program):
    runs: list[datetime] = []

    async def record(now: datetime) -> None:
        runs.append(now)

    hourly = Job("hourly", timedelta(hours=1), record)
    await scheduled_for(0.6, database, program, lambda: NOW, jobs=[hourly], retry_seconds=0.1)
    assert runs == [NOW]


def jobs_done(records: list[logging.LogRecord]) -> set[str]:
    """The jobs that logged their completion."""
    messages = [r.getMessage() for r in records]
    return {
        m.removeprefix("scheduler: ").split(" done: ")[0]
        for m in messages
        if m.startswith("scheduler: ") and " done: " in m
    }


async def test_the_loyalty_jobs_queue_what_is_due(database, uow, program, caplog):
    member = await new_member(uow, program, 1, now=NOW - timedelta(days=20))
    caplog.set_level(logging.DEBUG)
    task = asyncio.create_task(run_scheduler(database, program, lambda: NOW, retry_seconds=0.1))
    try:
        for _ in range(100):
            if len(jobs_done(caplog.records)) == 6:
                break
            await asyncio.sleep(0.1)
        assert jobs_done(caplog.records) == {
            "nudges",
            "surprise",
            "birthdays",
            "promotions",
            "expiry",
            "tier review",
        }
        info = [
            r.getMessage()
            for r in caplog.records
            if r.levelno == logging.INFO and " done: " in r.getMessage()
        ]
        assert info == ["scheduler: nudges done: 1 nudges queued"]  # the rest did nothing
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
    async with database.reader.connect() as conn:
        queued = (await conn.execute(select(OutboxRow.c.member_id, OutboxRow.c.template))).all()
    assert [tuple(row) for row in queued] == [(member.id, "nudge_referral_reminder")]


async def test_routine_lines_are_debug_and_jobs_are_named_for_people(database, program, caplog):
    async def review(now: datetime) -> str:
        return "0 members moved down a tier"

    job = Job("tier review", timedelta(hours=6), review)
    caplog.set_level(logging.DEBUG)
    await scheduled_for(0.5, database, program, lambda: NOW, jobs=[job], retry_seconds=0.1)
    routine = [r for r in caplog.records if r.name.startswith("apscheduler")]
    assert {r.levelname for r in routine} == {"DEBUG"}
    lines = [r.getMessage() for r in routine]
    assert any(
        line.startswith('Running job "tier review (trigger: interval[6:00:00]') for line in lines
    )
    assert any(
        line.startswith('Job "leadership check (trigger: interval[0:00:00.100000]')
        and line.endswith("executed successfully")
        for line in lines
    )
    assert "scheduler: tier review done: 0 members moved down a tier" in caplog.messages
    caplog.clear()
    caplog.set_level(logging.INFO)
    await scheduled_for(0.5, database, program, lambda: NOW, jobs=[job], retry_seconds=0.1)
    assert [r for r in caplog.records if r.name.startswith("apscheduler")] == []
    assert "scheduler: tier review done: 0 members moved down a tier" in caplog.messages


async def test_a_run_that_did_nothing_is_logged_at_debug_only(database, program, caplog):
    async def idle(now: datetime) -> int:
        return 0

    caplog.set_level(logging.INFO)
    await scheduled_for(
        0.5,
        database,
        program,
        lambda: NOW,
        jobs=[Job("expiry", timedelta(hours=1), idle)],
        retry_seconds=0.1,
    )
    assert not [m for m in caplog.messages if "expiry done" in m]
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    await scheduled_for(
        0.5,
        database,
        program,
        lambda: NOW,
        jobs=[Job("expiry", timedelta(hours=1), idle)],
        retry_seconds=0.1,
    )
    assert "scheduler: expiry done: nothing to do" in caplog.messages


async def test_with_the_dashboard_served_its_default_period_is_kept_in_every_locale(
    database, program, caplog
):
    caplog.set_level(logging.DEBUG)
    task = asyncio.create_task(
        run_scheduler(database, program, lambda: NOW, retry_seconds=0.1, figures=True)
    )
    try:
        for _ in range(300):  # charts drawn in two locales: seconds on a busy machine
            if "dashboard figures" in jobs_done(caplog.records):
                break
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
    assert "dashboard figures" in jobs_done(caplog.records)
    async with SqlUnitOfWork(database, read_only=True) as uow:
        for locale in program.info.locales:  # NOW is 2026-03-02: the 30 days before it
            assert await uow.metrics.kept(f"dashboard/2026-01-31/2026-03-02/{locale}")
