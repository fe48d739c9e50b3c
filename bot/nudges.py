"""`loyalty-bot nudges --dry-run | --run-once [--at T]`: preview or queue the due nudges."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import open_database, program_of
from bot.settings import Settings
from domain.services.nudges import due_nudges, queue_nudges
from messages.render import render_text
from storage.uow import SqlUnitOfWork


async def nudges_command(settings: Settings, dry_run: bool, at: datetime | None) -> int:
    """Print who would get which nudge and why, or queue them; `at` previews another time."""
    program = program_of(settings)
    now = at or datetime.now(UTC)
    database = await open_database(settings)
    due = queued = 0
    try:
        if dry_run:
            reader = SqlUnitOfWork(database, read_only=True)
            async for chunk in due_nudges(reader, program, now):
                print(render_text("nudges_due", nudges=chunk))
                due += len(chunk)
        else:
            queued = await queue_nudges(SqlUnitOfWork(database), program, now)
    finally:
        await database.dispose()
    print(render_text("nudges_summary", dry_run=dry_run, now=now, due=due, queued=queued))
    return 0
