"""Where one `record_purchase` spends its time on SQLite: a sequential loop under cProfile.

    python -m tests.benchmarks.profile_purchase [--members 10000] [--purchases 1000]

First an unprofiled loop gives the sequential rate, the SQL statements per purchase and
the share of wall time spent between SQLAlchemy's before/after cursor-execute events
(driver round trips, including aiosqlite's hop to its thread). Then a loop under
cProfile gives the profiled time by layer (SQLAlchemy, asyncio, the aiosqlite thread
hand-off, domain code ...) and the top functions by own and by cumulative time. cProfile
slows Python code several times over, so read its numbers as proportions.
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

TOP = 15
LAYERS = (  # first match wins: (layer, substring of the profiled function's file or name)
    ("waiting on the event loop (epoll: driver thread working or handing back)", "poll"),
    ("aiosqlite hand-off (queue, futures, thread wake-ups)", "aiosqlite"),
    ("aiosqlite hand-off (queue, futures, thread wake-ups)", "queue"),
    ("greenlet switches (SQLAlchemy async bridge)", "greenlet"),
    ("SQLAlchemy (compile cache, ORM, results, pool)", "/sqlalchemy/"),
    ("asyncio event loop", "/asyncio/"),
    ("asyncio event loop", "selectors"),
    ("domain services and rules", "/domain/"),
    ("storage repositories", "/storage/"),
)


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


def layer(filename: str, function: str) -> str:
    """Which layer a profiled function belongs to."""
    where = f"{filename}:{function}"
    return next((name for name, mark in LAYERS if mark in where), "other (builtins, stdlib)")


def layers(stats: pstats.Stats) -> dict[str, float]:
    """Own (not cumulative) profiled seconds added up by layer, largest first."""
    totals: dict[str, float] = {}
    for (filename, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
        name = layer(filename, function)
        totals[name] = totals.get(name, 0.0) + row[2]
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


async def timed(operation: workload.Operation, database: Database, purchases: int) -> None:
    """The unprofiled loop: rate, statements per purchase, share inside cursor execute."""
    clock = SqlClock()
    clock.attach(database)
    wall = await loop(operation, purchases)
    print(
        f"{purchases} sequential purchases, unprofiled: {purchases / wall:,.0f}/s, "
        f"{1000 * wall / purchases:.2f} ms each"
    )
    print(
        f"SQL statements per purchase: {clock.statements / purchases:.1f}; inside cursor "
        f"execute: {100 * clock.seconds / wall:.0f}% of wall time "
        f"({1000 * clock.seconds / clock.statements:.3f} ms per statement)"
    )


def profiled_report(profiler: cProfile.Profile) -> None:
    """Profiled time by layer, then the top functions."""
    stats = pstats.Stats(profiler)
    total = sum(layers(stats).values())
    print(f"\nProfiled own time by layer (total {total:.1f} s):")
    for name, seconds in layers(stats).items():
        print(f"  {100 * seconds / total:5.1f}%  {name}")
    stats.strip_dirs().sort_stats("tottime").print_stats(TOP)
    stats.sort_stats("cumulative").print_stats(TOP)


async def run(members: int, purchases: int) -> None:
    """Load, warm up, time a sequential purchase loop, then profile one."""
    program = load_program(default_program_path())
    with tempfile.TemporaryDirectory(prefix="loyalty-profile-") as folder:
        database = Database(f"sqlite+aiosqlite:///{folder}/loyalty.db")
        await create_schema(database)
        await bulk_load(database, program, members, datetime.now(UTC))
        operation = workload.purchases(database, program, members)()
        await loop(operation, 100)  # warm the statement cache and the pool
        await timed(operation, database, purchases)
        profiler = cProfile.Profile()
        profiler.enable()
        await loop(operation, purchases)
        profiler.disable()
        await database.dispose()
    profiled_report(profiler)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `python -m tests.benchmarks.profile_purchase`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--purchases", type=int, default=1_000)
    args = parser.parse_args(argv)
    asyncio.run(run(args.members, args.purchases))


if __name__ == "__main__":
    main()
