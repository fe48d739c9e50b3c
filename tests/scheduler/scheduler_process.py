"""One process running the scheduler with a job that reports its runs, for the leader test.

    python -m tests.scheduler.scheduler_process DATABASE_URL

prints `tick <pid>` each time its job runs, which happens only while this process leads.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta

from bot.scheduler import Job, run_scheduler
from domain.program_file import default_program_path, load_program
from storage.database import Database

EVERY = timedelta(seconds=0.3)


async def tick(now: datetime) -> None:
    print(f"tick {os.getpid()}", flush=True)


async def main(url: str) -> None:
    database = Database(url)
    try:
        await run_scheduler(
            database,
            load_program(default_program_path()),
            lambda: datetime.now(UTC),
            jobs=[Job("tick", EVERY, tick)],
            retry_seconds=0.3,
        )
    finally:
        await database.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
