"""Selecting and queueing due nudges among many members: time and peak memory, per database.

    .venv/bin/python -m tests.benchmarks.nudge_bench [--members N] [--databases sqlite,postgresql]

Loads N members (default 1,000,000) with `tests.benchmarks.bulk`, then gives them a mix of
facts: time zones, shared invite links, lots about to expire, purchases (some long ago),
tier credits near the next tier, and recent nudges. Twenty days later (10:00 in the
program's time zone) a fresh process runs `due_nudges` over everyone (the dry run), then
another runs `queue_nudges` (selection, nudge log and outbox rows). Each reports its wall
time, its own CPU time (the database server's not included), the machine's load average
and its peak resident memory (the whole process, interpreter and libraries included), so
loading the data never counts towards either. The queue row counts the outbox rows written,
by template, after the clock stops.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text, update

from domain.program_file import default_program_path, load_program
from domain.services.nudges import due_nudges, queue_nudges
from storage.database import Database
from storage.tables import LotRow, NudgeLogRow, OutboxRow, PurchaseRow, TierCreditRow
from storage.uow import SqlUnitOfWork
from tests.benchmarks.bulk import BATCH, bulk_load, create_schema
from tests.benchmarks.service_bench import postgres_url

LOADED = datetime(2026, 11, 1, 15, 0, tzinfo=UTC)
SELECTED = LOADED + timedelta(days=20)  # 10:00 in New York; Tokyo and Los Angeles sleep
PG_BENCH_DB = "loyalty_nudge_bench"
LINES = {
    "lines": [
        {"sku": "S", "category": "shoes", "quantity": 1, "unit_price": "60.00"},
        {"sku": "C", "category": "coffee", "quantity": 2, "unit_price": "4.50"},
    ]
}

MIX = [  # what a share of members has, by member id modulo 20
    "UPDATE members SET timezone = 'Asia/Tokyo' WHERE id % 20 = 1",
    "UPDATE members SET timezone = 'America/Los_Angeles' WHERE id % 20 = 2",
    "UPDATE members SET invite_shown_at = joined_at WHERE id % 2 = 0",
    "UPDATE members SET reminders_opt_in = false WHERE id % 20 = 5",
]
EXPIRING_SOON = (
    update(LotRow).where(LotRow.c.id % 20 == 4).values(expires_at=SELECTED + timedelta(days=7))
)


def _facts_rows(ids: range) -> list[tuple[Any, list[dict[str, Any]]]]:
    """Purchases for members with id % 10 = 3 (half of them 40 days ago), tier credits near
    Insider for id % 20 = 3, and a nudge yesterday for id % 20 = 7."""
    buyers = [i for i in ids if i % 10 == 3]
    purchases = [
        {
            "merchant": "main",
            "receipt_id": f"B-{i}",
            "member_id": i,
            "body_hash": "-",
            "total": 69,
            "points_awarded": 0,
            "tier_credits": 69,
            "refunded": 0,
            "points_clawed": 0,
            "credits_clawed": 0,
            "lines": LINES,
            "answer": {},
            "occurred_at": LOADED - timedelta(days=40 if i % 20 == 13 else -5),
            "recorded_at": LOADED,
        }
        for i in buyers
    ]
    credits = [{"member_id": i, "credits": 460, "occurred_at": LOADED} for i in ids if i % 20 == 3]
    nudged = [
        {
            "member_id": i,
            "kind": "referral_reminder",
            "cause_key": "referral_reminder",
            "at": SELECTED - timedelta(days=1),
        }
        for i in ids
        if i % 20 == 7
    ]
    return [(PurchaseRow, purchases), (TierCreditRow, credits), (NudgeLogRow, nudged)]


async def load(url: str, members: int) -> float:
    """Members, then the mix of facts; the seconds it took."""
    program = load_program(default_program_path())
    database = Database(url)
    try:
        await create_schema(database)
        started = time.perf_counter()
        await bulk_load(database, program, members, LOADED)
        async with database.writer.begin() as conn:
            for statement in MIX:
                await conn.execute(text(statement))
            await conn.execute(EXPIRING_SOON)
        for first in range(1, members + 1, BATCH):
            async with database.writer.begin() as conn:
                for table, rows in _facts_rows(range(first, min(first + BATCH, members + 1))):
                    if rows:
                        await conn.execute(insert(table), rows)
        if database.dialect == "postgresql":
            async with database.writer.begin() as conn:
                await conn.execute(text("ANALYZE"))
        return time.perf_counter() - started
    finally:
        await database.dispose()


async def select_due(url: str) -> dict[str, Any]:
    """Run `due_nudges` over every member (in this process): seconds, counts, memory."""
    program = load_program(default_program_path())
    database = Database(url)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kinds: Counter[str] = Counter()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        reader = SqlUnitOfWork(database, read_only=True)
        async for chunk in due_nudges(reader, program, SELECTED):
            kinds.update(n.kind for n in chunk)
    finally:
        await database.dispose()
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "kinds": dict(kinds),
        "rss_before_mb": before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


async def outbox_by_template(database: Database) -> dict[str, int]:
    """How many outbox rows each template has."""
    async with database.reader.connect() as conn:
        rows = await conn.execute(
            select(OutboxRow.c.template, func.count()).group_by(OutboxRow.c.template)
        )
        return {template: int(count) for template, count in rows}


async def queue_due(url: str) -> dict[str, Any]:
    """Run `queue_nudges` over every member (in this process): seconds, rows, memory."""
    program = load_program(default_program_path())
    database = Database(url)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started, cpu = time.perf_counter(), time.process_time()
    try:
        queued = await queue_nudges(SqlUnitOfWork(database), program, SELECTED)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        written = await outbox_by_template(database)
    finally:
        await database.dispose()
    if sum(written.values()) != queued:
        raise AssertionError(f"queued {queued:,} but {sum(written.values()):,} outbox rows")
    return {
        "seconds": seconds,
        "cpu": cpu,
        "kinds": written,
        "rss_before_mb": before,
        "peak_rss_mb": peak,
    }


def measure_in_child(url: str, step: str) -> dict[str, Any]:
    """`select_due` or `queue_due` in a fresh interpreter, so its peak memory is its own."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.nudge_bench", f"--{step}", url],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def row(name: str, members: int, step: str, loaded: float, result: dict[str, Any]) -> str:
    """One markdown table row."""
    kinds = result["kinds"]
    met = result["seconds"] < 30 and result["peak_rss_mb"] < 300
    mix = ", ".join(f"{kind} {count:,}" for kind, count in sorted(kinds.items()))
    return (
        f"| {name} | {members:,} | {step} | {loaded:.0f} | {result['seconds']:.1f} | "
        f"{result['cpu']:.1f} | {os.getloadavg()[0]:.1f} | "
        f"{result['rss_before_mb']:.0f} | {result['peak_rss_mb']:.0f} | "
        f"{sum(kinds.values()):,} | {mix} | {'yes' if met else 'no'} |"
    )


async def measure(name: str, url: str, members: int) -> list[str]:
    """Load one database, then select (read only) and queue; their table rows, printed."""
    loaded = await load(url, members)
    rows = []
    for step in ("select", "queue"):
        rows.append(row(name, members, step, loaded, measure_in_child(url, step)))
        print(rows[-1], flush=True)
    return rows


async def bench(databases: list[str], members: int) -> list[str]:
    """Load and measure each database; the table rows."""
    rows = []
    for name in databases:
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                rows += await measure(name, f"sqlite+aiosqlite:///{folder}/nudges.db", members)
        else:
            async with postgres_url(PG_BENCH_DB) as url:
                rows += await measure(name, url, members)
    return rows


def main() -> None:
    """Print a markdown table: load time, then per step its time, memory, rows by kind."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--select", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--queue", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.select or args.queue:
        step = select_due(args.select) if args.select else queue_due(args.queue)
        print(json.dumps(asyncio.run(step)))
        return
    print(
        "| database | members | step | load s | step s | step CPU s | load avg | "
        "RSS before MB | peak RSS MB | due / queued | by kind | met |"
    )
    print(
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        flush=True,
    )
    asyncio.run(bench(args.databases.split(","), args.members))


if __name__ == "__main__":
    main()
