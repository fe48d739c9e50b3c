"""The members' Mini App's server time per screen with many members: what a member waits
for before the first screen shows (benchmark, not a timed test).

    .venv/bin/python -m tests.benchmarks.web_bench [--members N] [--requests N]
                                                   [--databases sqlite,postgresql]

Loads N members (default 200,000) straight into the tables (tests.benchmarks.bulk), then
asks the real app (create_api with its pages, in this process through httpx's ASGI
transport, so no network) for each screen as randomly chosen members, with initData
signed as Telegram signs it: the page itself, then the card (the first screen), rewards,
causes, goals and history. Prints the median, 95th percentile and slowest per screen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bot.api.app import create_api
from bot.app import button_secret
from bot.web.site import WebSettings
from bot.web.telegram_auth import INIT_DATA_HEADER, sign_init_data
from domain.card_codes import card_key
from domain.program_file import default_program_path, load_program
from storage.database import Database
from storage.uow import UnitsOfWork
from tests.benchmarks.bulk import TELEGRAM_ID_BASE, bulk_load, create_schema
from tests.benchmarks.service_bench import postgres_url

TOKEN = "123456:BENCH-token"
SCREENS = ["card", "rewards", "causes", "goals", "history"]


def signed(telegram_id: int) -> dict[str, str]:
    """The initData header of `telegram_id`, made now."""
    user = json.dumps({"id": telegram_id, "first_name": "Bench", "language_code": "en"})
    fields = {"user": user, "auth_date": str(int(time.time()))}
    return {INIT_DATA_HEADER: sign_init_data(fields, TOKEN)}


async def measure(database: Database, members: int, requests: int) -> dict[str, list[float]]:
    """Seconds per request of each screen, as random members."""
    program = load_program(default_program_path())
    await create_schema(database)
    loaded = await bulk_load(database, program, members, datetime.now(UTC))
    print(f"  loaded {members:,} members in {loaded:.1f} s")
    units = UnitsOfWork(database)
    web = WebSettings(TOKEN, card_key(button_secret(TOKEN)))
    api = create_api(units.writer, units.reader, program, lambda: datetime.now(UTC), web=web)
    times: dict[str, list[float]] = {"page": [], **{name: [] for name in SCREENS}}
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        for _ in range(requests):
            started = time.perf_counter()
            assert (await http.get("/app/")).status_code == 200
            times["page"].append(time.perf_counter() - started)
            headers = signed(TELEGRAM_ID_BASE + random.randint(1, members))
            for name in SCREENS:
                started = time.perf_counter()
                answer = await http.get(f"/app/screen/{name}", headers=headers)
                times[name].append(time.perf_counter() - started)
                assert answer.status_code == 200, (name, answer.text[:200])
    return times


def report(times: dict[str, list[float]]) -> None:
    print(f"  {'screen':<10}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}")
    for name, seconds in times.items():
        ordered = sorted(seconds)
        p95 = ordered[int(len(ordered) * 0.95) - 1]
        median = statistics.median(ordered)
        print(f"  {name:<10}{median * 1000:>11.1f}{p95 * 1000:>9.1f}{ordered[-1] * 1000:>9.1f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    for name in args.databases.split(","):
        print(f"{name}: {args.members:,} members, {args.requests} members asking")
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                database = Database(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
                report(await measure(database, args.members, args.requests))
                await database.dispose()
        else:
            async with postgres_url("loyalty_web_bench") as url:
                database = Database(url)
                report(await measure(database, args.members, args.requests))
                await database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
