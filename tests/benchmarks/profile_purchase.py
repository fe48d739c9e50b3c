"""Where one `record_purchase` spends its time on SQLite: a sequential loop under cProfile.

    python -m tests.benchmarks.profile_purchase [--members 10000] [--purchases 2000]

Prints the sequential rate, the SQL statements per purchase, the share of wall time spent
between SQLAlchemy's before/after cursor-execute events (driver round trips, including
aiosqlite's hop to its thread), and the top functions by cumulative and by own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event

from domain.program_file import default_program_path, load_program
from storage.database import Database
from tests.benchmarks import workload
from tests.benchmarks.bulk import bulk_load, create_schema

TOP = 25


@dataclass
class SqlClock:
    """Counts statements and adds up the time between before and after cursor execute."""

    statements: int = 0
    seconds: float = 0.0
    _started: list[float] = field(default_factory=list)

    def before(self, *_: Any) -> None:
        """Start timing one statement."""
        self.statements += 1
        self._started.append(time.perf_counter())

    def after(self, *_: Any) -> None:
        """Stop timing the statement started last."""
        self.seconds += time.perf_counter() - self._started.pop()

    def attach(self, database: Database) -> None:
        """Listen on the writer engine."""
        event.listen(database.writer.sync_engine, "before_cursor_execute", self.before)
        event.listen(database.writer.sync_engine, "after_cursor_execute", self.after)


async def loop(operation: workload.Operation, count: int) -> float:
    """Run `count` calls one after another; returns the wall time."""
    started = time.perf_counter()
    for _ in range(count):
        await operation()
    return time.perf_counter() - started


async def run(members: int, purchases: int) -> None:
    """Load, warm up, then profile a sequential purchase loop and print the findings."""
    program = load_program(default_program_path())
    with tempfile.TemporaryDirectory(prefix="loyalty-profile-") as folder:
        database = Database(f"sqlite+aiosqlite:///{folder}/loyalty.db")
        await create_schema(database)
        await bulk_load(database, program, members, datetime.now(UTC))
        operation = workload.purchases(database, program, members)()
        await loop(operation, 100)  # warm the statement cache and the pool
        clock = SqlClock()
        clock.attach(database)
        profiler = cProfile.Profile()
        profiler.enable()
        wall = await loop(operation, purchases)
        profiler.disable()
        await database.dispose()
    print(f"{purchases} sequential purchases in {wall:.2f} s under cProfile: "
          f"{purchases / wall:,.0f}/s, {1000 * wall / purchases:.2f} ms each")
    print(f"SQL statements per purchase: {clock.statements / purchases:.1f}; "
          f"time inside cursor execute: {100 * clock.seconds / wall:.0f}% of wall time")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(TOP)
    stats.sort_stats("tottime").print_stats(TOP)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `python -m tests.benchmarks.profile_purchase`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--purchases", type=int, default=2_000)
    args = parser.parse_args(argv)
    asyncio.run(run(args.members, args.purchases))


if __name__ == "__main__":
    main()
