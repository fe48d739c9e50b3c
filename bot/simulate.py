"""`loyalty-bot program simulate NEW.toml`: what a new program would have given, side by side.

Every receipt of the period is replayed under the current program and under NEW.toml on a
read-only transaction (see `domain.services.simulation`), by `--jobs` processes (default
one per core; `bot.replay_pool`); the figures are printed with the change. The period runs
from the start of `--since` to the start of `--until` in the current program's time zone; by
default the 365 days before today.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from bot.program_report import load_translated_program, program_problems
from bot.replay_pool import default_jobs, process_replayer
from bot.settings import Settings
from domain.periods import BadPeriod, local_today, named_period
from domain.program import Program
from domain.program_file import ProgramError, default_program_path
from domain.services.simulation import simulate
from domain.simulation import Comparison
from messages.render import render_text
from storage.database import Database
from storage.migrate import current_revision
from storage.uow import SqlUnitOfWork

DEFAULT_DAYS = 365
Kind = Literal["count", "money", "percent"]


@dataclass(frozen=True)
class Row:
    """One figure of the table: its label (a template key or a tier name) and both values."""

    label: str
    current: int | Decimal | None
    new: int | Decimal | None
    kind: Kind = "count"

    @property
    def change(self) -> int | Decimal | None:
        """New minus current; None when either is not known."""
        if self.current is None or self.new is None:
            return None
        return self.new - self.current


def _midnight(day: date, zone: str) -> datetime:
    """The start of `day` in `zone`, in UTC."""
    return datetime.combine(day, time(), ZoneInfo(zone)).astimezone(UTC)


def rows(comparison: Comparison, current: Program, new: Program) -> Iterator[Row]:
    """The figures in printing order."""
    old_side, new_side = comparison.current, comparison.new
    yield Row("points", old_side.points_issued, new_side.points_issued)
    yield Row("credits", old_side.tier_credits, new_side.tier_credits)
    tiers = [t.name for t in current.tiers.levels]
    tiers += [t.name for t in new.tiers.levels if t.name not in tiers]
    for tier in tiers:
        yield Row(tier, old_side.members_by_tier.get(tier), new_side.members_by_tier.get(tier))
    yield Row("outstanding", old_side.outstanding, new_side.outstanding)
    yield Row("liability", old_side.liability, new_side.liability, "money")
    revenue = comparison.revenue
    yield Row(
        "reward_rate", old_side.reward_rate(revenue), new_side.reward_rate(revenue), "percent"
    )
    rate = comparison.redemption_rate
    yield Row(
        "redemption_cost", old_side.redemption_cost(rate), new_side.redemption_cost(rate), "money"
    )


async def run_simulation(
    settings: Settings, current: Program, new: Program, since: datetime, until: datetime, jobs: int
) -> Comparison | None:
    """The comparison, read from the configured database without writing (None: no schema);
    with `jobs` over 1, replayed by that many processes."""
    database = Database(settings.database_url)
    try:
        if await current_revision(database) is None:
            return None
        uow = SqlUnitOfWork(database, read_only=True, snapshot=True)
        if jobs < 2:
            return await simulate(uow, current, new, since, until)
        replayer, parts = process_replayer(settings.database_url, current, new, since, until, jobs)
        return await simulate(uow, current, new, since, until, replayer=replayer, parts=parts)
    finally:
        await database.dispose()


async def simulate_command(
    settings: Settings,
    path: Path,
    since: str | None,
    until: str | None,
    shown_url: str,
    jobs: int | None = None,
) -> int:
    """Print the side-by-side figures (exit 0); a bad NEW file exits 1, bad dates 2.

    `shown_url` is the database URL as it may be printed (without its password); `jobs`
    processes replay the receipts (None: one per core)."""
    current_path = settings.loyalty_program or default_program_path()
    current = load_translated_program(current_path)
    try:
        new = load_translated_program(path)
    except ProgramError as error:
        print(program_problems(error.problems, str(path)), file=sys.stderr)
        return 1
    try:
        zone = current.info.timezone
        first, last = named_period(
            since, until, local_today(datetime.now(UTC), zone), DEFAULT_DAYS, ("--since", "--until")
        )
        start, end = _midnight(first, zone), _midnight(last, zone)
    except BadPeriod as error:
        print(render_text("bad_argument", error=error), file=sys.stderr)
        return 2
    comparison = await run_simulation(
        settings, current, new, start, end, default_jobs() if jobs is None else jobs
    )
    if comparison is None:
        print(render_text("db_not_ready", url=shown_url), file=sys.stderr)
        return 1
    print(
        render_text(
            "program_simulation",
            c=comparison,
            rows=list(rows(comparison, current, new)),
            current_path=str(current_path),
            new_path=str(path),
            currency=current.info.currency,
            zone=current.info.timezone,
        )
    )
    return 0
