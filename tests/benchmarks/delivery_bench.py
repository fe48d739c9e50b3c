"""Broadcast delivery: achieved send rate through the emulator, and queuing a million.

    python -m tests.benchmarks.delivery_bench [--members 5000] [--queue 1000000]
        [--parts rate,queue] [--databases sqlite,postgresql]

rate: `loyalty-bot run` (a separate process, SQLite) sends a broadcast to `--members`
members through the emulator enforcing Telegram's limits (30/s bulk, 1000/s paid, one per
chat per second), at SEND_RATE=25 and at PAID_BROADCAST=1 (1000/s). Achieved rate = messages
after the first / time from the first to the last; steady rate = the same from the tenth of
the messages on (start-up lateness left out); the 429 answers are counted.
queue: `queue_broadcast` to `--queue` members (created with one INSERT ... SELECT), timed,
with the peak RSS of this process, on each database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy import text

from bot.emulator import Emulator
from domain.broadcasts import BroadcastContent
from domain.segments import Segment
from domain.services.broadcasts import queue_broadcast
from storage.database import Database
from storage.migrate import ensure_schema
from storage.uow import SqlUnitOfWork
from tests.delivery.helpers import add_members

TOKEN = "123456:BENCH-TOKEN"
PG_SERVER = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
MEMBERS_SQL = {  # a million rows without passing through Python
    "sqlite": (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
        "INSERT INTO members (id, telegram_id, locale, marketing_opt_in, reachable, "
        "joined_at, tier, reminders_opt_in) SELECT i, i, 'en', 1, 1, "
        "'2026-01-01 00:00:00.000000', 'Member', 1 FROM n"
    ),
    "postgresql": (
        "INSERT INTO members (id, telegram_id, locale, marketing_opt_in, reachable, "
        "joined_at, tier, reminders_opt_in) SELECT i, i, 'en', true, true, "
        "'2026-01-01', 'Member', true FROM generate_series(1, :count) AS i"
    ),
}


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def send_rate(members: int, paid: bool) -> tuple[float, float, int, float]:
    """(achieved rate, steady rate, 429 answers, seconds) for one broadcast through a `run`
    process."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        database = Database(url)
        await ensure_schema(database)
        async with Emulator(token=TOKEN, record_calls=True) as emulator:
            emulator.limits()
            ids = range(1, members + 1)
            await add_members(database, ids)
            for user_id in ids:
                emulator.user(user_id).record.started = True
            await queue_broadcast(
                SqlUnitOfWork(database), BroadcastContent("Hi"), Segment(), "bench", NOW
            )
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "BOT_TOKEN": TOKEN,
                "API_PORT": "0",
                "TELEGRAM_API_BASE": emulator.base_url,
                **({"PAID_BROADCAST": "1"} if paid else {"SEND_RATE": "25"}),
            }
            bot = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).with_name("loyalty-bot")),
                "run",
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            first, tenth, last = await _arrivals(emulator, members)
            bot.terminate()
            await bot.wait()
            refused = sum(
                1
                for c in emulator.calls_to("sendMessage")
                if not c.ok and "Too Many" in (c.error or "")
            )
        await database.dispose()
    steady = (members - members // 10) / (last - tenth)
    return (members - 1) / (last - first), steady, refused, last - first


async def _arrivals(emulator: Emulator, members: int) -> tuple[float, float, float]:
    """When the first message, the tenth of them and the last arrived (polled every 5 ms)."""
    seen, delivered, first, tenth = 0, 0, None, None
    deadline = time.monotonic() + members / 10 + 60
    while delivered < members:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{delivered} of {members} delivered")
        calls = emulator.calls
        delivered += sum(1 for c in calls[seen:] if c.ok and c.method == "sendMessage")
        seen = len(calls)
        if delivered and first is None:
            first = time.monotonic()
        if delivered >= members // 10 and tenth is None:
            tenth = time.monotonic()
        await asyncio.sleep(0.005)
    assert first is not None
    assert tenth is not None
    return first, tenth, time.monotonic()


async def queue_million(kind: str, count: int) -> tuple[float, float]:
    """(seconds, peak RSS MB) to queue a broadcast to `count` members."""
    database, drop = await _empty_database(kind)
    try:
        await ensure_schema(database)
        async with database.writer.begin() as conn:
            await conn.execute(text(MEMBERS_SQL[kind]), {"count": count})
        started = time.perf_counter()
        await queue_broadcast(
            SqlUnitOfWork(database), BroadcastContent("Hi"), Segment(), "bench", NOW
        )
        return time.perf_counter() - started, peak_rss_mb()
    finally:
        await database.dispose()
        await drop()


async def _empty_database(kind: str) -> tuple[Database, object]:
    if kind == "sqlite":
        folder = tempfile.mkdtemp()

        async def remove() -> None:
            shutil.rmtree(folder)

        return Database(f"sqlite+aiosqlite:///{folder}/queue.db"), remove
    name = f"delivery_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_SERVER)
    await admin.execute(f'CREATE DATABASE "{name}"')

    async def drop() -> None:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    base = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return Database(f"{base}/{name}"), drop


async def main(args: argparse.Namespace) -> None:
    parts = args.parts.split(",")
    if "rate" in parts:
        print("| broadcast | configured /s | achieved /s | ratio | steady /s | 429s | seconds |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for paid, configured in ((False, 25.0), (True, 1000.0)):
            rate, steady, refused, seconds = await send_rate(args.members, paid)
            label = f"{args.members:,} members" + (", paid" if paid else "")
            print(
                f"| {label} | {configured:,.0f} | {rate:,.1f} | {rate / configured:.3f} "
                f"| {steady:,.1f} | {refused} | {seconds:,.1f} |",
                flush=True,
            )
    if "queue" in parts:
        print("\n| database | members queued | seconds | peak RSS MB |")
        print("| --- | ---: | ---: | ---: |")
        for kind in args.databases.split(","):
            seconds, rss = await queue_million(kind, args.queue)
            print(f"| {kind} | {args.queue:,} | {seconds:.1f} | {rss:.0f} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--queue", type=int, default=1_000_000)
    parser.add_argument("--parts", default="rate,queue")
    parser.add_argument("--databases", default="sqlite,postgresql")
    asyncio.run(main(parser.parse_args()))
