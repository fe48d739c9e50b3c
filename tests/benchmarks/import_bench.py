"""CSV import speed: rows per second and peak memory of `import_purchases`, per database.

    python -m tests.benchmarks.import_bench [--rows 100000] [--members 10000]
        [--databases sqlite,postgresql] [--importers bot.importer] [--markdown]

One CSV is generated for the whole run: receipts of 1-4 lines (about 2.5 on average, so
100,000 rows are about 40,000 receipts) for random bulk-loaded members named by member
code, Telegram id or phone, neighbouring rows shuffled so receipts are split, and a few
bad receipts (a bad quantity, an unknown member code, a time in the future) and receipts
held for an unknown phone. Per database and importer module, a fresh database gets the
members, then a fresh interpreter (a spawned process, so peak RSS is the import's own)
imports the file twice: the first run records it, the second must award nothing. Give
`--importers` several modules with the same `import_purchases` to compare them side by
side in one run (e.g. a saved copy of an older importer on PYTHONPATH).

CPU per row is the importing process's (all its threads) and, on PostgreSQL, the server's
backends serving the database (read from /proc: the server must run on this host, else
"-"): on two shared cores these move less with the load than rows/s do.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import importlib
import io
import os
import random
import resource
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select, text, update

from domain.program import Program
from domain.program_file import default_program_path, load_program
from storage.checks import check_invariants
from storage.database import Database
from storage.tables import MemberRow, PurchaseRow
from tests.benchmarks.bulk import TELEGRAM_ID_BASE, bulk_load, create_schema, member_code
from tests.benchmarks.service_bench import (
    DATABASES,
    machine_line,
    postgres_url,
    postgres_version,
    render,
    sqlite_url,
)
from tests.benchmarks.workload import CATALOG

HEADER = ("receipt_id", "member", "sku", "category", "quantity", "unit_price", "occurred_at")
MERCHANT = "main"
PHONE_EVERY = 3  # every third member has shared a phone
BAD_EVERY = 2_000  # one receipt in this many has a bad row, one an unknown member, ...
SHUFFLE_WINDOW = 8  # rows are shuffled within windows of this many, splitting receipts
TARGET_ROWS_PER_S = 5_000
MB = 1024 * 1024
PG_IMPORT_DB = "loyalty_import_bench"  # its own, so other benchmarks' databases are left alone


def phone_of(member_id: int) -> str:
    """The phone bulk-loaded member `member_id` shared (every PHONE_EVERY-th member)."""
    return f"+1555{member_id:07d}"


# --- the file ----------------------------------------------------------------------------


def member_cell(rng: random.Random, members: int) -> str:
    """A random member, named by code, Telegram id or (if they shared one) phone."""
    member_id = rng.randint(1, members)
    way = rng.randrange(3)
    if way == 0 or (way == 2 and member_id % PHONE_EVERY):
        return f"{member_code(member_id)[:4]}-{member_code(member_id)[4:]}"
    return str(TELEGRAM_ID_BASE + member_id) if way == 1 else phone_of(member_id)


def receipt_rows(number: int, rng: random.Random, members: int, now: datetime) -> list[list[str]]:
    """The 1-4 rows of receipt `number`; every BAD_EVERY-th few are bad or held."""
    member = member_cell(rng, members)
    when = (now - timedelta(minutes=rng.randint(10, 60 * 24 * 30))).isoformat()
    special = number % BAD_EVERY
    if special == 1:
        member = "KKKK-KKKK"  # nobody has this code
    elif special == 2:
        member = "+19999" + f"{number:07d}"  # nobody shared this phone: held
    elif special == 3:
        when = (now + timedelta(days=2)).isoformat()  # in the future
    rows = []
    for sku, category, price in rng.sample(CATALOG, rng.randint(1, 4)):
        quantity = "two" if special == 4 else str(rng.randint(1, 3))
        rows.append([f"imp-{number}", member, sku, category, quantity, str(price), when])
    return rows


def write_csv(path: Path, rows: int, members: int, now: datetime, seed: int = 7) -> int:
    """Write about `rows` rows (whole receipts); returns how many receipts."""
    rng = random.Random(seed)
    lines: list[list[str]] = []
    receipts = 0
    while len(lines) < rows:
        receipts += 1
        lines += receipt_rows(receipts, rng, members, now)
    for start in range(0, len(lines), SHUFFLE_WINDOW):
        window = lines[start : start + SHUFFLE_WINDOW]
        rng.shuffle(window)
        lines[start : start + SHUFFLE_WINDOW] = window
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(lines)
    return receipts


# --- one measurement, in a fresh interpreter ---------------------------------------------


async def share_phones(database: Database, members: int) -> None:
    """Give every PHONE_EVERY-th bulk-loaded member a phone."""
    rows = [{"key": i, "value": phone_of(i)} for i in range(PHONE_EVERY, members + 1, PHONE_EVERY)]
    statement = (
        update(MemberRow)  # type: ignore[arg-type]
        .where(MemberRow.c.id == bindparam("key"))
        .values(phone=bindparam("value"))
    )
    async with database.writer.begin() as conn:
        await conn.execute(statement, rows)


async def count_purchases(database: Database) -> tuple[int, int]:
    """Receipts recorded and points they awarded."""
    async with database.reader.connect() as conn:
        row = (
            await conn.execute(
                select(func.count(), func.coalesce(func.sum(PurchaseRow.c.points_awarded), 0))
            )
        ).one()
    return int(row[0]), int(row[1])


def rss_mb() -> float:
    """This process's resident set size now."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / MB


async def server_ticks(database: Database) -> dict[int, int] | None:
    """CPU clock ticks so far of each PostgreSQL backend serving `database`, by process id;
    None on SQLite or when the server's processes are not on this host."""
    if database.dialect != "postgresql":
        return None
    async with database.reader.connect() as conn:
        pids = (
            await conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            )
        ).scalars()
        return process_ticks(list(pids))


def process_ticks(pids: list[int]) -> dict[int, int] | None:
    """CPU clock ticks (user + system) so far of each process; None if one is not here."""
    ticks = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


def server_seconds(before: dict[int, int] | None, after: dict[int, int] | None) -> float | None:
    """Server CPU seconds between two `server_ticks` (a backend started since: all of it)."""
    if before is None or after is None:
        return None
    ticks = sum(total - before.get(pid, 0) for pid, total in after.items())
    return ticks / os.sysconf("SC_CLK_TCK")


async def _timed_import(
    importer: Any, database: Database, program: Program, path: Path
) -> tuple[float, int, float, float | None]:
    """Seconds one `import_purchases` takes, its exit code, and the CPU seconds it used:
    this process's and the database server's (None if not known)."""
    ticks = await server_ticks(database)
    cpu = time.process_time()
    started = time.perf_counter()
    code = await importer.import_purchases(
        database, program, path, out=io.StringIO(), err=io.StringIO()
    )
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    return seconds, code, cpu, server_seconds(ticks, await server_ticks(database))


async def _import_twice(url: str, module: str, path: Path, members: int) -> dict[str, Any]:
    importer = importlib.import_module(module)
    program = load_program(default_program_path())
    database = Database(url)
    try:
        await create_schema(database)
        await bulk_load(database, program, members, datetime.now(UTC))
        await share_phones(database, members)
        start_mb = rss_mb()
        first = await _timed_import(importer, database, program, path)
        recorded, points = await count_purchases(database)
        second = await _timed_import(importer, database, program, path)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        drifts = len(await check_invariants(database))
        again, _ = await count_purchases(database)
    finally:
        await database.dispose()
    return {
        "seconds": [first[0], second[0]],
        "codes": [first[1], second[1]],
        "cpu": first[2],
        "server_cpu": first[3],
        "start_mb": start_mb,
        "peak_mb": peak_mb,
        "recorded": recorded,
        "points": points,
        "again": again - recorded,
        "drifts": drifts,
    }


def import_twice(url: str, module: str, path: Path, members: int) -> dict[str, Any]:
    """Load members into `url`, import `path` twice with `module`; what was measured."""
    return asyncio.run(_import_twice(url, module, path, members))


# --- the run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One importer on one database."""

    database: str
    importer: str
    rows: int
    measured: dict[str, Any]
    load: tuple[float, float]  # 1-minute load average before and after

    def cells(self) -> list[str]:
        """One table row."""
        first, second = self.measured["seconds"]
        rate = self.rows / first
        server = self.measured["server_cpu"]
        return [
            self.database,
            self.importer,
            f"{rate:,.0f}",
            f"{first:.1f}",
            f"{self.measured['cpu'] / self.rows * 1e6:.0f}",
            "-" if server is None else f"{server / self.rows * 1e6:.0f}",
            f"{self.rows / second:,.0f}",
            f"{self.measured['peak_mb']:.0f}",
            f"{self.measured['peak_mb'] - self.measured['start_mb']:.0f}",
            f"{self.measured['recorded']:,}",
            f"{self.measured['points']:,}",
            "none" if self.measured["again"] == 0 else f"{self.measured['again']} more",
            "held" if not self.measured["drifts"] else f"{self.measured['drifts']} drifts",
            "/".join(str(code) for code in self.measured["codes"]),
            "yes" if rate >= TARGET_ROWS_PER_S else "no",
            f"{self.load[0]:.1f}–{self.load[1]:.1f}",
        ]


def database_url(name: str) -> AbstractAsyncContextManager[str]:
    """A fresh, empty database of kind `name`, removed afterwards."""
    if name == "postgresql":
        return postgres_url(PG_IMPORT_DB)

    @asynccontextmanager
    async def sqlite() -> Any:
        with sqlite_url() as url:
            yield url

    return sqlite()


async def measure(name: str, module: str, path: Path, args: argparse.Namespace) -> Result:
    """Import the file twice with `module` into a fresh database, in a fresh process."""
    print(
        f"[{name}] {module}: loading {args.members:,} members, importing {args.rows:,} "
        "rows twice ...",
        flush=True,
    )
    load = os.getloadavg()[0]
    async with database_url(name) as url:
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            measured = await asyncio.get_running_loop().run_in_executor(
                pool, import_twice, url, module, path, args.members
            )
    return Result(name, module, args.rows, measured, (load, os.getloadavg()[0]))


async def run(args: argparse.Namespace) -> None:
    """Write the file, measure each database and importer, print the table."""
    pg_version, pg_problem = await postgres_version()
    results = []
    with tempfile.TemporaryDirectory(prefix="loyalty-import-") as folder:
        path = Path(folder) / "sales.csv"
        receipts = write_csv(path, args.rows, args.members, datetime.now(UTC))
        args.rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
        print(
            f"{args.rows:,} rows in {receipts:,} receipts, {path.stat().st_size / MB:.1f} MB",
            flush=True,
        )
        for name in args.databases:
            if name == "postgresql" and pg_problem:
                print(f"[postgresql] skipped: {pg_problem}")
                continue
            for module in args.importers:
                results.append(await measure(name, module, path, args))
    measured = {result.database for result in results}
    print(f"\nMachine: {machine_line(pg_version if 'postgresql' in measured else None)}\n")
    print(
        render(
            [
                "database",
                "importer",
                "rows/s",
                "seconds",
                "client CPU µs/row",
                "server CPU µs/row",
                "rerun rows/s",
                "peak RSS MB",
                "import MB",
                "receipts recorded",
                "points",
                "rerun awarded",
                "invariants",
                "exit codes",
                f"≥ {TARGET_ROWS_PER_S:,} rows/s",
                "load",
            ],
            [result.cells() for result in results],
            args.markdown,
        )
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--importers", default="bot.importer", help="comma-separated modules with import_purchases"
    )
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args(argv)
    args.databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    args.importers = [name.strip() for name in args.importers.split(",") if name.strip()]
    unknown = set(args.databases) - set(DATABASES)
    if unknown or not args.databases:
        parser.error(f"--databases takes {' and/or '.join(DATABASES)}, got {sorted(unknown)}")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `python -m tests.benchmarks.import_bench`."""
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
