"""The merchant dashboard's pages on a large program: server time per page, per database.

    .venv/bin/python -m tests.benchmarks.dashboard_bench [--members N] [--receipts N]
                                                         [--databases sqlite,postgresql]

Fills each database with `metrics_bench`'s data (200,000 members and 2,000,000 receipts by
default) and times the scheduler's "dashboard figures" job once (the default period, the 30
days before 2026-11-30, computed and kept in every locale). Then an app that never computed
anything (as after a restart, or in another process) signs an admin in through a one-time
link and is asked in-process (httpx over ASGI: no network, the server's own time) for the
metrics page of the default period (kept by the job), the metrics page of a period nobody
asked for before (its first answer, then how long until its figures show, then the next
views), a member search by name and by code (every member gets a first name, one in 1,000
matching), and a member's page, each three times: the first view, then the slowest of the
next two.
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
from bot.period_figures import keep_default_period
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
    """The job's time, then each page's server times, signed in as the admin."""
    database = Database(url)
    program = load_program(default_program_path())

    def reader() -> SqlUnitOfWork:
        return SqlUnitOfWork(database, read_only=True)

    def writer() -> SqlUnitOfWork:
        return SqlUnitOfWork(database)

    api = create_api(
        writer,
        reader,
        program,
        lambda: NOW,
        web=WebSettings(TOKEN, b"k" * 32, admins=frozenset({ADMIN})),
    )
    try:
        async with database.writer.begin() as conn:  # the generated members have no names
            await conn.execute(text(NAMES))
            await conn.execute(text(f"UPDATE members SET code = '{MEMBER_CODE}' WHERE id = 7"))
        started = time.perf_counter()
        await keep_default_period(reader, writer, program, NOW)
        measured = [("scheduler job: default period, en + es", [time.perf_counter() - started])]
        token = await issue_login(writer(), ADMIN, NOW, login_key(b"k" * 32))
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            await http.post("/dashboard/login", data={"token": token})
            measured.append(
                ("metrics, default period", await timed(http, "/dashboard/metrics", {}))
            )
            measured += await new_period(http)
            member = MEMBER_CODE
            asked = {
                "member search by name": ("/dashboard/members", {"q": "ann"}),
                "member search by code": ("/dashboard/members", {"q": member}),
                "a member's page": (f"/dashboard/members/{member}", {}),
            }
            for name, (path, query) in asked.items():
                measured.append((name, await timed(http, path, query)))
            return measured
    finally:
        await database.dispose()


async def new_period(http: httpx.AsyncClient) -> list[tuple[str, list[float]]]:
    """A period never computed: its first answer, the time until its figures show (asked
    again every 0.1 s, where a browser looks every 2 s), then its next views."""
    query = {"since": "2026-09-01", "until": "2026-10-01"}
    started = time.perf_counter()
    first = await timed(http, "/dashboard/metrics", query, runs=1)
    for _ in range(6000):  # 10 minutes at most
        if 'id="computing"' not in (await http.get("/dashboard/metrics", params=query)).text:
            break
        await asyncio.sleep(0.1)
    shown = time.perf_counter() - started
    return [
        ("metrics, new period: first answer", first),
        ("metrics, new period: figures shown", [shown]),
        ("metrics, new period: next views", await timed(http, "/dashboard/metrics", query)),
    ]


async def timed(
    http: httpx.AsyncClient, path: str, query: dict[str, str], runs: int = RUNS
) -> list[float]:
    """`runs` answers of `path`, each timed; every one must be 200."""
    times = []
    for _ in range(runs):
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
        line = f"  {page:<40} {first:7.3f} s"
        if then:
            line = f"  {page:<40} first {first:7.3f} s, then up to {max(then):7.3f} s"
        print(line, flush=True)


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
