"""Throughput and latency of purchases and balance reads, through the service layer.

    python -m tests.benchmarks.service_bench [--members 100000] [--seconds 10]
        [--concurrency 8] [--databases sqlite,postgresql] [--markdown]

Per database: bulk-load the members, then time `record_purchase` (each call its own
transaction), `grouped record_purchase` (the concurrent calls through one group commit,
`bot.api.batching.PurchaseBatcher`, as the API records them), `account_summary` and a
bare `ledger.balance` read, each for `--seconds` with `--concurrency` asyncio tasks (one
unit of work each) after a one-second warm-up; finally check the ledger invariants.
PostgreSQL gets a throwaway database on the server named by TEST_POSTGRES_DSN (as in
the tests) and is skipped, with the reason, when that server cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import event

from domain.program import Program
from domain.program_file import default_program_path, load_program
from storage.checks import check_invariants
from storage.database import Database
from tests.benchmarks import workload
from tests.benchmarks.bulk import bulk_load, create_schema

PG_SERVER = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
PG_BENCH_DB = "loyalty_bench"
WARMUP_SECONDS = 1.0
COUNTED_OPS = 200  # operations run once more, untimed, to count their SQL statements
DATABASES = ("sqlite", "postgresql")
PURCHASE_TARGETS = {"sqlite": 500, "postgresql": 1_000}
TARGETS = {
    "record_purchase": PURCHASE_TARGETS,
    "grouped record_purchase": PURCHASE_TARGETS,
    "account_summary": {"sqlite": 5_000, "postgresql": 5_000},
    "ledger.balance": {"sqlite": 5_000, "postgresql": 5_000},
}


@dataclass(frozen=True)
class Result:
    """One measured operation on one database."""

    database: str
    operation: str
    latencies: Sequence[float]  # seconds, one per call
    elapsed: float
    statements: float  # SQL statements per call
    concurrency: int
    members: int

    @property
    def per_second(self) -> float:
        """Completed calls per second of wall time."""
        return len(self.latencies) / self.elapsed

    def percentile_ms(self, fraction: float) -> float:
        """The latency below which `fraction` of the calls finished, in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass(frozen=True)
class Run:
    """Everything measured on one database."""

    database: str
    load_seconds: float
    results: list[Result]
    drifts: int


# --- measuring ---------------------------------------------------------------------------


async def _drive(operation: workload.Operation, deadline: float, latencies: list[float]) -> None:
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        await operation()
        latencies.append(time.perf_counter() - started)


async def measure(
    factory: workload.OperationFactory, concurrency: int, seconds: float
) -> tuple[list[float], float]:
    """Latencies of every call `concurrency` tasks complete in `seconds`, and the wall time."""
    operations = [factory() for _ in range(concurrency)]
    warmup_end = time.perf_counter() + WARMUP_SECONDS
    await asyncio.gather(*(_drive(op, warmup_end, []) for op in operations))
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(_drive(op, started + seconds, latencies) for op in operations))
    return latencies, time.perf_counter() - started


async def statements_per_call(
    database: Database, factory: workload.OperationFactory, concurrency: int
) -> float:
    """SQL statements (BEGIN included) per call, averaged over COUNTED_OPS calls made by
    `concurrency` tasks (so calls that share a transaction share its statements)."""
    count = 0

    def counted(*_: Any) -> None:
        nonlocal count
        count += 1

    engines = {database.writer.sync_engine, database.reader.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", counted)

    async def calls(operation: workload.Operation) -> None:
        for _ in range(COUNTED_OPS // concurrency):
            await operation()

    try:
        await asyncio.gather(*(calls(factory()) for _ in range(concurrency)))
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", counted)
    return count / (COUNTED_OPS // concurrency * concurrency)


async def bench(name: str, url: str, program: Program, args: argparse.Namespace) -> Run:
    """Load, measure the operations, and check the invariants on one database."""
    database = Database(url)
    try:
        await create_schema(database)
        print(f"[{name}] loading {args.members:,} members ...", flush=True)
        load_seconds = await bulk_load(database, program, args.members, datetime.now(UTC))
        factories = {
            "record_purchase": workload.purchases(database, program, args.members),
            "grouped record_purchase": workload.grouped_purchases(database, program, args.members),
            "account_summary": workload.summaries(database, program, args.members),
            "ledger.balance": workload.balances(database, args.members),
        }
        results = []
        for operation, factory in factories.items():
            if args.operations and operation not in args.operations:
                continue
            print(f"[{name}] {operation} for {args.seconds:g} s ...", flush=True)
            latencies, elapsed = await measure(factory, args.concurrency, args.seconds)
            statements = await statements_per_call(database, factory, args.concurrency)
            results.append(
                Result(
                    name, operation, latencies, elapsed, statements, args.concurrency, args.members
                )
            )
        drifts = len(await check_invariants(database))
    finally:
        await database.dispose()
    return Run(name, load_seconds, results, drifts)


# --- databases ---------------------------------------------------------------------------


@contextmanager
def sqlite_url() -> Iterator[str]:
    """A SQLite file in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="loyalty-bench-") as folder:
        yield f"sqlite+aiosqlite:///{folder}/loyalty.db"


async def _pg_admin(statement: str) -> str:
    conn = await asyncpg.connect(PG_SERVER, timeout=5)
    try:
        return str(
            await conn.fetchval(statement)
            if statement.startswith("SHOW")
            else await conn.execute(statement)
        )
    finally:
        await conn.close()


async def postgres_version() -> tuple[str | None, str | None]:
    """The server version, or None and why the server is unreachable."""
    try:
        return await _pg_admin("SHOW server_version"), None
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return None, f"PostgreSQL not reachable at {PG_SERVER}: {error}"


@asynccontextmanager
async def postgres_url(name: str = PG_BENCH_DB) -> AsyncIterator[str]:
    """A fresh database `name` on the test server, dropped afterwards."""
    await _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await _pg_admin(f"CREATE DATABASE {name}")
    base = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        await _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- reporting ---------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_line(pg_version: str | None) -> str:
    """Date, CPUs, Python, SQLite and PostgreSQL versions, on one line."""
    return (
        f"{datetime.now(UTC):%Y-%m-%d}; nproc {len(os.sched_getaffinity(0))} "
        f"({cpu_model()}); Python {platform.python_version()}; "
        f"SQLite {sqlite3.sqlite_version}; PostgreSQL {pg_version or 'not measured'}"
    )


def render(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    """A table as markdown or as aligned plain text (numbers right-aligned either way)."""
    if markdown:
        lines = [header, ["---" if i < 2 else "---:" for i in range(len(header))], *rows]
        return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        for cells in [header, *rows]
    )


def result_row(result: Result) -> list[str]:
    """One table row; the target is met when ops/s reaches it."""
    target = TARGETS[result.operation][result.database]
    return [
        result.database,
        result.operation,
        f"{result.per_second:,.0f}",
        f"{result.percentile_ms(0.5):.1f}",
        f"{result.percentile_ms(0.99):.1f}",
        f"{result.percentile_ms(1.0):.0f}",
        f"{result.statements:.1f}",
        str(result.concurrency),
        f"{result.members:,}",
        f"{target:,}",
        "yes" if result.per_second >= target else "no",
    ]


def report(runs: list[Run], markdown: bool) -> str:
    """The results table and the load table."""
    results = render(
        [
            "database",
            "operation",
            "ops/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "SQL/op",
            "concurrency",
            "members",
            "target ops/s",
            "met",
        ],
        [result_row(r) for run in runs for r in run.results],
        markdown,
    )
    loads = render(
        ["database", "members loaded", "load s", "members/s", "invariants after run"],
        [
            [
                run.database,
                f"{run.results[0].members:,}",
                f"{run.load_seconds:.1f}",
                f"{run.results[0].members / run.load_seconds:,.0f}",
                "held" if not run.drifts else f"{run.drifts} drifts",
            ]
            for run in runs
        ],
        markdown,
    )
    return f"{results}\n\n{loads}"


# --- main --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    parser.add_argument(
        "--operations", default="", help=f"a comma-separated subset of: {'; '.join(TARGETS)}"
    )
    args = parser.parse_args(argv)
    args.operations = [name.strip() for name in args.operations.split(",") if name.strip()]
    if set(args.operations) - set(TARGETS):
        parser.error(f"--operations takes some of {sorted(TARGETS)}")
    args.databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = set(args.databases) - set(DATABASES)
    if unknown or not args.databases:
        parser.error(f"--databases takes {' and/or '.join(DATABASES)}, got {sorted(unknown)}")
    return args


async def run(args: argparse.Namespace) -> None:
    """Benchmark each requested database and print the tables."""
    program = load_program(default_program_path())
    pg_version, pg_problem = await postgres_version()
    runs = []
    for name in args.databases:
        if name == "sqlite":
            with sqlite_url() as url:
                runs.append(await bench(name, url, program, args))
        elif pg_problem:
            print(f"[postgresql] skipped: {pg_problem}")
        else:
            async with postgres_url() as url:
                runs.append(await bench(name, url, program, args))
    measured = [run.database for run in runs]
    print(f"\nMachine: {machine_line(pg_version if 'postgresql' in measured else None)}\n")
    if runs:
        print(report(runs, args.markdown))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `python -m tests.benchmarks.service_bench`."""
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
