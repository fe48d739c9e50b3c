"""The merchant dashboard's pages on a large program: server time per page, per database.

    .venv/bin/python -m tests.benchmarks.dashboard_bench [--members N] [--receipts N]
                                                         [--databases sqlite,postgresql]

Fills each database with `metrics_bench`'s data (200,000 members and 2,000,000 receipts by
default), signs an admin in through a one-time link, then asks the app in-process (httpx
over ASGI: no network, the server's own time) for the metrics page of the 30 days before
2026-11-30 (its figures, the period before, and five charts), a member search by name and
by code (every member gets a first name, one in 1,000 matching), and a member's page,
each three times: the first view, then the slowest of the next two (the metrics of a
period are kept 5 minutes, bot.web.period_cache).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text

from bot.api.app import create_api
from bot.web.site import WebSettings
from domain.program_file import default_program_path, load_program
from domain.services.dashboard import issue_login, login_key
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.benchmarks.metrics_bench import END, load, options
from tests.benchmarks.service_bench import postgres_url

ADMIN = 1
TOKEN = "123456:DASHBOARD-bench"
NOW = datetime.fromisoformat(f"{END}T12:00:00+00:00").astimezone(UTC)
RUNS = 3
MEMBER_CODE = "ABCD2345"
NAMES = "UPDATE members SET first_name = CASE WHEN id % 1000 = 7 THEN 'Annabel' ELSE 'Kim' END"


async def pages(url: str) -> list[tuple[str, list[float]]]:
    """Each page's server times, signed in as the admin."""
    database = Database(url)
    program = load_program(default_program_path())
    api = create_api(
        lambda: SqlUnitOfWork(database),
        lambda: SqlUnitOfWork(database, read_only=True),
        program,
        lambda: NOW,
        web=WebSettings(TOKEN, b"k" * 32, admins=frozenset({ADMIN})),
    )
    try:
        async with database.writer.begin() as conn:  # the generated members have no names
            await conn.execute(text(NAMES))
            await conn.execute(text(f"UPDATE members SET code = '{MEMBER_CODE}' WHERE id = 7"))
        token = await issue_login(SqlUnitOfWork(database), ADMIN, NOW, login_key(b"k" * 32))
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            await http.post("/dashboard/login", data={"token": token})
            member = MEMBER_CODE
            asked = {
                "metrics, 30 days, 5 charts": (
                    "/dashboard/metrics",
                    {"since": "2026-10-31", "until": END},
                ),
                "member search by name": ("/dashboard/members", {"q": "ann"}),
                "member search by code": ("/dashboard/members", {"q": member}),
                "a member's page": (f"/dashboard/members/{member}", {}),
            }
            return [(name, await timed(http, path, query)) for name, (path, query) in asked.items()]
    finally:
        await database.dispose()


async def timed(http: httpx.AsyncClient, path: str, query: dict[str, str]) -> list[float]:
    """RUNS answers of `path`, each timed; every one must be 200."""
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        answer = await http.get(path, params=query)
        times.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:200]}")
    return times


async def bench(name: str, url: str, members: int, receipts: int) -> None:
    loaded = await load(url, members, receipts)
    print(f"{name}: {members:,} members, {receipts:,} receipts loaded in {loaded:.0f} s")
    for page, times in await pages(url):
        first, *then = times
        print(f"  {page:<28} first {first:6.2f} s, then up to {max(then):6.2f} s", flush=True)


async def run(args: argparse.Namespace) -> None:
    for name in args.databases.split(","):
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite+aiosqlite:///{Path(folder) / 'dashboard.db'}"
                await bench(name, url, args.members, args.receipts)
        else:
            async with postgres_url("loyalty_dashboard_bench") as url:
                await bench(name, url, args.members, args.receipts)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run."""
    asyncio.run(run(options(__doc__, argv)))


if __name__ == "__main__":
    main()
