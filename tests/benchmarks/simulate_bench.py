"""`loyalty-bot program simulate` over a year of receipts: wall time and peak memory.

    .venv/bin/python -m tests.benchmarks.simulate_bench [--members N] [--receipts N]
                                                        [--databases sqlite,postgresql]

Fills each database with `metrics_bench`'s data (N members, default 200,000; N receipts,
default 2,000,000, over the year before 2026-11-30, each with its stored lines), then runs
`loyalty-bot program simulate NEW.toml --since 2025-11-30 --until 2026-11-30` in a fresh
process, first with `--jobs 1` (in that process), then with one worker process per core,
and prints the wall time, receipts per second, CPU time and peak resident memory of each
(workers included), and the load average after it. NEW.toml is the bundled program earning
2 points per unit instead of 1, with Insider from 300 tier credits instead of 500.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bot.replay_pool import default_jobs
from domain.program_file import default_program_path
from tests.benchmarks.metrics_bench import load, options, timed_cli
from tests.benchmarks.service_bench import postgres_url

YEAR = ["--since", "2025-11-30", "--until", "2026-11-30"]
JOBS = (1, default_jobs())  # in one process, then one worker process per core


def new_program(folder: Path) -> Path:
    """The bundled program with another earn rate and a lower Insider threshold."""
    text = default_program_path().read_text(encoding="utf-8")
    insider = 'name = "Insider"\nthreshold = {}\n'
    for old, new in (
        ("points_per_unit = 1\n", "points_per_unit = 2\n"),
        (insider.format(500), insider.format(300)),
    ):
        if old not in text:
            raise SystemExit(f"the bundled program no longer has {old!r}")
        text = text.replace(old, new)
    path = folder / "new.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def bench(name: str, url: str, members: int, receipts: int, program: Path) -> None:
    """Load, then time one simulation of the year."""
    loaded = await load(url, members, receipts)
    print(
        f"{name}: {members:,} members, {receipts:,} receipts loaded in {loaded:.0f} s", flush=True
    )
    for jobs in JOBS:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, peak = timed_cli(
            url, ["program", "simulate", str(program), *YEAR, "--jobs", str(jobs)]
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        print(
            f"  program simulate --jobs {jobs} {wall:6.1f} s   {receipts / wall:8,.0f} "
            f"receipts/s   CPU {cpu:6.1f} s (workers included, not the database server's)   "
            f"peak RSS {peak:4.0f} MB (workers included)   load {os.getloadavg()[0]:.1f}",
            flush=True,
        )


async def run(args: argparse.Namespace) -> None:
    """Each database in turn, SQLite in a temporary folder, PostgreSQL dropped afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        program = new_program(Path(folder))
        for name in args.databases.split(","):
            if name == "sqlite":
                url = f"sqlite+aiosqlite:///{Path(folder) / 'simulate.db'}"
                await bench(name, url, args.members, args.receipts, program)
            else:
                async with postgres_url("loyalty_simulate_bench") as url:
                    await bench(name, url, args.members, args.receipts, program)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run."""
    asyncio.run(run(options(__doc__, argv)))


if __name__ == "__main__":
    main()
