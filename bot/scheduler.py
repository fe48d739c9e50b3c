"""The scheduler: APScheduler interval jobs that ask the domain who is due, in one process.

Jobs keep no state of their own: each asks the domain what is due as of now (nudges,
surprises, birthdays, promotions starting, lots past their expiry, downgrades whose grace
ended) and writes messages to the outbox. So after downtime the first run catches up on
everything missed, once; runs that pile up while the loop is busy are coalesced into one.

Exactly one process runs the jobs: the leader (`storage.leader`; on PostgreSQL the holder
of an advisory lock, on SQLite the one process). The others ask every few seconds and, when
the leader died, take over and run every job at once. A leader that loses its database
connection stops at its next check; jobs are idempotent (unique keys), so a moment of
overlap sends nothing twice.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]

from bot.period_figures import keep_default_period
from domain.program import Program
from domain.services.birthdays import BirthdayRun, pay_birthdays
from domain.services.nudges import queue_nudges
from domain.services.points import ExpiryRun, expire_due_points
from domain.services.promotions import AnnounceRun, announce_promotions
from domain.services.surprise import SurpriseRun, run_surprise
from domain.services.tiering import review_tiers
from domain.surprise import draw_day
from storage.database import Database
from storage.leader import LeaderLock
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
FIGURES_EVERY = timedelta(minutes=5)  # the dashboard's default period, computed ahead
LEADERSHIP = "leadership check"
APSCHEDULER_LOGGERS = ("apscheduler.scheduler", "apscheduler.executors.default")


class RoutineAsDebug(logging.Filter):
    """APScheduler's INFO lines (a job added, running, executed; started, shut down) as
    DEBUG: with the leadership check every few seconds they would fill the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


ROUTINE_AS_DEBUG = RoutineAsDebug()


def _as_news(result: object) -> str | None:
    """A job's result as a log line, or None when it did nothing (0, None, empty)."""
    return str(result) if result else None


@dataclass(frozen=True)
class Job:
    """A named job run every `every`, given the current time; `news` words what a run did,
    or None when it did nothing, so routine runs stay out of the INFO log."""

    name: str
    every: timedelta
    run: Callable[[datetime], Awaitable[Any]]
    news: Callable[[Any], str | None] = _as_news


def _expired(run: ExpiryRun) -> str | None:
    return f"{run.points} points expired in {run.lots} lots" if run.lots else None


def _surprised(run: SurpriseRun) -> str | None:
    return (
        f"{len(run.surprised)} of {run.eligible} eligible members surprised"
        if run.surprised
        else None
    )


def _celebrated(run: BirthdayRun) -> str | None:
    return f"birthday treats paid: {len(run.paid)}" if run.paid else None


def _announced(run: AnnounceRun) -> str | None:
    return str(run) if run.promotions else None


def loyalty_jobs(database: Database, program: Program, figures: bool = False) -> list[Job]:
    """Nudges, the surprise draw, birthdays, promotions starting, expiry of due lots and
    tier downgrades; with `figures` (the dashboard is served), its default period's figures
    kept computed."""

    def writer() -> SqlUnitOfWork:
        return SqlUnitOfWork(database)

    def reader() -> SqlUnitOfWork:
        return SqlUnitOfWork(database, read_only=True)

    async def surprise(now: datetime) -> SurpriseRun:
        seed = f"{program.info.name}|{draw_day(now, program.info.timezone)}"
        return await run_surprise(writer(), program, now, random.Random(seed))

    jobs = [
        Job(
            "nudges",
            timedelta(minutes=15),
            lambda now: queue_nudges(writer(), program, now),
            lambda queued: f"{queued} nudges queued" if queued else None,
        ),
        Job("surprise", timedelta(hours=1), surprise, _surprised),
        Job(
            "birthdays",
            timedelta(minutes=15),
            lambda now: pay_birthdays(writer(), program, now),
            _celebrated,
        ),
        Job(
            "promotions",
            timedelta(minutes=5),
            lambda now: announce_promotions(writer(), program, now),
            _announced,
        ),
        Job("expiry", timedelta(hours=1), lambda now: expire_due_points(writer(), now), _expired),
        Job(
            "tier review",
            timedelta(hours=6),
            lambda now: review_tiers(writer(), program, now),
            lambda moved: f"{moved} members moved down a tier" if moved else None,
        ),
    ]
    if figures:
        jobs.append(
            Job(
                "dashboard figures",
                FIGURES_EVERY,
                lambda now: keep_default_period(reader, writer, program, now),
                lambda dropped: f"{dropped} old periods' figures dropped" if dropped else None,
            )
        )
    return jobs


class Leader(Protocol):
    """Whether this process runs the jobs (`storage.leader.LeaderLock`)."""

    @property
    def leads(self) -> bool: ...

    async def check(self) -> bool: ...
    async def release(self) -> None: ...


def stopped_quietly(job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """A job that ends quietly when the scheduler stops under it: APScheduler would log the
    cancellation as an ERROR with its traceback ("raised an exception") on every stop.
    Nothing is half-done: each use case a job calls is one transaction, rolled back."""

    @functools.wraps(job)
    async def run() -> None:
        try:
            await job()
        except asyncio.CancelledError:
            log.debug("scheduler: %s stopped while running", job.__name__)

    return run


def build_scheduler(
    jobs: Sequence[Job],
    leadership: Leader,
    clock: Callable[[], datetime],
    retry_seconds: float = RETRY_SECONDS,
) -> AsyncIOScheduler:
    """An AsyncIOScheduler running `jobs` while `leadership` holds; every job at once on
    taking the lead (at start, or when another leader died)."""
    for name in APSCHEDULER_LOGGERS:
        logging.getLogger(name).addFilter(ROUTINE_AS_DEBUG)  # once: the same filter is kept
    scheduler = AsyncIOScheduler(timezone=UTC)

    def guarded(job: Job) -> Callable[[], Awaitable[None]]:
        @stopped_quietly
        async def run() -> None:
            if leadership.leads:
                news = job.news(await job.run(clock()))
                if news is None:
                    log.debug("scheduler: %s done: nothing to do", job.name)
                else:
                    log.info("scheduler: %s done: %s", job.name, news)

        return run

    @stopped_quietly
    async def lead() -> None:
        before = leadership.leads
        leads = await leadership.check()
        if leads and not before:
            log.info("scheduler: this process leads")
            for job in jobs:
                scheduler.modify_job(job.name, next_run_time=datetime.now(UTC))
        elif before and not leads:
            log.warning("scheduler: lost the database connection holding the lead")

    for job in jobs:
        seconds = job.every.total_seconds()
        scheduler.add_job(
            guarded(job),
            "interval",
            seconds=seconds,
            id=job.name,
            name=job.name,
            coalesce=True,
            misfire_grace_time=max(int(seconds), 1),
            max_instances=1,
        )
    scheduler.add_job(
        lead,
        "interval",
        seconds=retry_seconds,
        id=LEADERSHIP,
        name=LEADERSHIP,
        next_run_time=datetime.now(UTC),
        coalesce=True,
        max_instances=1,
    )
    return scheduler


async def run_scheduler(
    database: Database,
    program: Program,
    clock: Callable[[], datetime],
    jobs: Sequence[Job] | None = None,
    retry_seconds: float = RETRY_SECONDS,
    figures: bool = False,
) -> None:
    """Run the loyalty jobs (or `jobs`) whenever this process leads, until cancelled; with
    `figures`, the dashboard's too."""
    leadership = LeaderLock(database)
    scheduler = build_scheduler(
        loyalty_jobs(database, program, figures) if jobs is None else jobs,
        leadership,
        clock,
        retry_seconds,
    )
    scheduler.start()
    try:
        await asyncio.Event().wait()
    finally:
        scheduler.pause()
        # A job submitted but not yet started would be cancelled before entering
        # stopped_quietly, and APScheduler would log that as an ERROR: let it start first.
        await asyncio.sleep(0)
        scheduler.shutdown(wait=False)
        await leadership.release()
