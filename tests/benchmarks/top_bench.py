"""`/top` on a big ledger: the month's leaderboard with and without the `(kind, created_at)`
index on point_transactions, side by side in one database.

    .venv/bin/python -m tests.benchmarks.top_bench [--members N] [--per-month N]
                                                  [--databases sqlite,postgresql]

The schema is made by the migrations. N members (default 20,000) join a year before
2026-06-20; each of the twelve months before then gets N ledger transactions (default
50,000) of random members: eight in ten purchases, one refund, one bonus. Then
`leaderboard()` is read for a random member 15 times and the median printed: first with
the index the migrations make, then without it, then with it again (so both sides see a
warm cache).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from domain.program_file import default_program_path, load_program
from domain.services.leaderboard import leaderboard
from storage.database import Database
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWork
from tests.benchmarks.bulk import TRANSACTIONS, bulk_load
from tests.benchmarks.service_bench import postgres_url

NOW = datetime(2026, 6, 20, tzinfo=UTC)
MONTHS, READS, BATCH = 12, 15, 5_000
INDEX = "ix_point_transactions_kind_time"
KINDS = ["purchase"] * 8 + ["refund", "bonus"]


async def load(database: Database, members: int, per_month: int) -> None:
    """Members with their signup bonus, then the months of transactions."""
    program = load_program(default_program_path())
    await bulk_load(database, program, members, NOW - timedelta(days=400))
    rng, next_id = random.Random(1), members + 1
    for month in range(MONTHS):
        end = NOW - timedelta(days=30 * month)
        rows = [
            {
                "id": next_id + i,
                "member_id": rng.randint(1, members),
                "kind": rng.choice(KINDS),
                "points": rng.randint(1, 200),
                "created_at": end - timedelta(seconds=rng.randint(0, 30 * 86_400)),
            }
            for i in range(per_month)
        ]
        next_id += per_month
        for first in range(0, per_month, BATCH):
            async with database.writer.begin() as conn:
                await conn.execute(insert(TRANSACTIONS), rows[first : first + BATCH])
    await analyze(database)


async def analyze(database: Database) -> None:
    """Fresh planner statistics (PostgreSQL; SQLite plans without them)."""
    if database.dialect == "postgresql":
        async with database.writer.begin() as conn:
            await conn.execute(text("ANALYZE"))


async def median_ms(database: Database, members: int) -> float:
    """The median time of one board read, for random members."""
    program, rng, times = load_program(default_program_path()), random.Random(2), []
    for _ in range(READS):
        started = time.perf_counter()
        await leaderboard(
            SqlUnitOfWork(database, read_only=True), program, rng.randint(1, members), NOW
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def index(database: Database, present: bool) -> None:
    """Make or drop the leaderboard's index."""
    async with database.writer.begin() as conn:
        await conn.execute(
            text(
                f"CREATE INDEX IF NOT EXISTS {INDEX} ON point_transactions (kind, created_at)"
                if present
                else f"DROP INDEX {INDEX}"
            )
        )
    await analyze(database)


async def bench(name: str, url: str, members: int, per_month: int) -> None:
    """Load, then read the board with, without and with the index again."""
    database = Database(url)
    try:
        await upgrade(database)
        started = time.perf_counter()
        await load(database, members, per_month)
        print(
            f"{name}: {members:,} members, {MONTHS * per_month:,} transactions "
            f"({per_month:,} a month) loaded in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        results = []
        for present in (True, False, True):
            await index(database, present)
            results.append(await median_ms(database, members))
        print(
            f"  /top median: with the index {results[0]:.1f} ms, without {results[1]:.1f} "
            f"ms, with again {results[2]:.1f} ms",
            flush=True,
        )
    finally:
        await database.dispose()


async def run(args: argparse.Namespace) -> None:
    """Each database in turn, SQLite in a temporary folder, PostgreSQL dropped afterwards."""
    for name in args.databases.split(","):
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite+aiosqlite:///{Path(folder) / 'top.db'}"
                await bench(name, url, args.members, args.per_month)
        else:
            async with postgres_url("loyalty_top_bench") as url:
                await bench(name, url, args.members, args.per_month)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--per-month", type=int, default=50_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
