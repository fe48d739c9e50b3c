"""Replaying ranges of members in worker processes, for `program simulate` on several cores.

The replay is pure Python per receipt, so one process is bound to one core; members are
independent, so each range is replayed by a process of a pool (spawned, so no event loop or
connection is inherited), each in its own read-only transaction on the shared snapshot.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from domain.program import Program
from domain.services.simulation import Replayer, replay_members
from domain.simulation import MemberRange, Tally
from storage.database import Database
from storage.uow import SqlUnitOfWork

MAX_DEFAULT_JOBS = 4  # each worker holds about 65 MB; more cores help less and less
RANGES_PER_JOB = 4  # more ranges than processes, so an unlucky range does not hold all up


def default_jobs() -> int:
    """One process per core this process may run on, at most `MAX_DEFAULT_JOBS`."""
    return min(len(os.sched_getaffinity(0)), MAX_DEFAULT_JOBS)


def process_replayer(
    url: str, current: Program, new: Program, since: datetime, until: datetime, jobs: int
) -> tuple[Replayer, int]:
    """A replayer running `jobs` processes on the database at `url`, and the ranges to cut."""

    async def replay(ranges: Sequence[MemberRange], snapshot: str | None) -> list[Tally]:
        loop = asyncio.get_running_loop()
        context = multiprocessing.get_context("spawn")
        with context.Pool(jobs, initializer=_ignore_interrupts) as pool:  # exit: terminate
            futures = []
            for members in ranges:
                future: asyncio.Future[Tally] = loop.create_future()
                pool.apply_async(
                    _replay_range,
                    (url, current, new, since, until, members, snapshot),
                    callback=partial(_settle, loop, future, True),
                    error_callback=partial(_settle, loop, future, False),
                )
                futures.append(future)
            return list(await asyncio.gather(*futures))

    return replay, jobs * RANGES_PER_JOB


def _ignore_interrupts() -> None:
    """Workers leave Ctrl+C to the parent, which stops them (no traceback from each)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _settle(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], ok: bool, value: Any
) -> None:
    """Hand a worker's result (or error) to the waiting coroutine, from the pool's thread."""

    def settle() -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    loop.call_soon_threadsafe(settle)


def _replay_range(
    url: str,
    current: Program,
    new: Program,
    since: datetime,
    until: datetime,
    members: MemberRange,
    snapshot: str | None,
) -> Tally:
    """In a worker: the tally of one range of members."""

    async def replay() -> Tally:
        database = Database(url)
        try:
            return await replay_members(
                SqlUnitOfWork(database, read_only=True, snapshot=True),
                current,
                new,
                since,
                until,
                members,
                snapshot,
            )
        finally:
            await database.dispose()

    return asyncio.run(replay())
