"""Purchases per second through the merchant HTTP API, with p50/p99 latency, per database.

    python -m tests.benchmarks.api_bench [--seconds 10] [--concurrency 8]
        [--members 100000] [--databases sqlite,postgresql] [--markdown]

Per database: bulk-load the members, create an API token with the `purchases` scope, and
serve the real app (`bot.api.app.create_api`, uvicorn configured as `bot.api.serve.serve_api`
does) on a free loopback port in a subprocess. The server gets its own process so that
the load generator shares neither its event loop nor its CPU accounting: the server's CPU
per purchase is read from /proc. The client here runs `--concurrency` aiohttp tasks, each
with its own keep-alive connection, posting fresh receipts (unique ids, 1-3 catalog lines,
the member by code or Telegram id) for a one-second warm-up and then `--seconds`. Every
answer other than 201 counts as an error. Finally the ledger invariants are checked and
the receipts recorded compared with the 201s. SQLite and PostgreSQL databases are
throwaway ones, as in `service_bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import os
import pstats
import random
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import uvicorn
from sqlalchemy import func, select

from bot.api.app import create_api
from domain.program_file import default_program_path, load_program
from domain.services.api_tokens import create_token
from domain.services.purchases import MERCHANT
from storage.checks import check_invariants
from storage.database import Database
from storage.tables import PurchaseRow
from storage.uow import SqlUnitOfWork
from tests.benchmarks.bulk import TELEGRAM_ID_BASE, bulk_load, create_schema, member_code
from tests.benchmarks.profile_purchase import LAYERS
from tests.benchmarks.service_bench import (
    DATABASES,
    machine_line,
    postgres_url,
    postgres_version,
    render,
    sqlite_url,
)
from tests.benchmarks.workload import random_lines

WARMUP_SECONDS = 1.0
READY_SECONDS = 30.0
TARGET_PER_S = {8: 500, 32: 1_000}  # purchases/s wanted from this many clients on (issue 12)
TARGET_P99_MS = 100.0
PATH = "/api/v1/purchases"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROFILE_TOP = 20


def target_per_s(clients: int) -> int:
    """The purchases/s target for this many clients: the largest count's not above it."""
    return max(
        (rate for count, rate in TARGET_PER_S.items() if count <= clients),
        default=TARGET_PER_S[min(TARGET_PER_S)],
    )


# --- the server --------------------------------------------------------------------------


async def serve(url: str, port: int) -> None:
    """The merchant API over `url` on 127.0.0.1:`port`, as `bot.api.serve.serve_api` runs it."""
    database = Database(url)
    api = create_api(
        lambda: SqlUnitOfWork(database),
        lambda: SqlUnitOfWork(database, read_only=True),
        load_program(default_program_path()),
        lambda: datetime.now(UTC),
    )
    config = uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    try:
        await uvicorn.Server(config).serve()
    finally:
        await database.dispose()


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_until_listening(port: int, server: asyncio.subprocess.Process) -> None:
    """Return once the server accepts connections; RuntimeError if it dies or never does."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if server.returncode is not None:
            raise RuntimeError(f"the API server exited with {server.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError(f"the API server did not listen on port {port} in {READY_SECONDS} s")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time process `pid` has used."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


# --- the client --------------------------------------------------------------------------


@dataclass
class Load:
    """What the clients saw: latencies of answered purchases, statuses, errors."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: int = 0  # no answer at all (connection refused, reset, timeout)

    @property
    def errors(self) -> int:
        """Requests not answered 201 Created."""
        return self.failures + sum(n for status, n in self.statuses.items() if status != 201)


class Till:
    """Fresh receipts for random bulk-loaded members, as a till would post them."""

    def __init__(self, members: int, seed: int = 4) -> None:
        self.members, self.rng, self.numbers = members, random.Random(seed), itertools.count(1)

    def receipt(self) -> dict[str, Any]:
        """One request body."""
        member_id = self.rng.randint(1, self.members)
        member: dict[str, Any] = (
            {"member_code": member_code(member_id)}
            if self.rng.random() < 0.5
            else {"telegram_id": TELEGRAM_ID_BASE + member_id}
        )
        items = [
            {
                "sku": ln.sku,
                "category": ln.category,
                "quantity": ln.quantity,
                "unit_price": str(ln.unit_price),
            }
            for ln in random_lines(self.rng)
        ]
        return {"receipt_id": f"api-{next(self.numbers)}", "member": member, "items": items}


async def client(base: str, token: str, till: Till, phases: list[tuple[float, Load]]) -> None:
    """Post receipts one after another on one keep-alive connection, phase by phase.

    Each phase is a deadline and the `Load` that records the requests made before it.
    """
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(base, connector=connector, headers=headers) as session:
        for deadline, load in phases:
            while time.perf_counter() < deadline:
                await post(session, till, load)


async def post(session: aiohttp.ClientSession, till: Till, load: Load) -> None:
    """One purchase, timed; its status or failure counted."""
    started = time.perf_counter()
    try:
        async with session.post(PATH, json=till.receipt()) as response:
            await response.read()
    except aiohttp.ClientError:
        load.failures += 1
        return
    load.latencies.append(time.perf_counter() - started)
    load.statuses[response.status] = load.statuses.get(response.status, 0) + 1


@dataclass
class Usage:
    """Wall and CPU time (server process and this client) between two samples."""

    server_pid: int
    wall: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    def sample(self, sign: int) -> None:
        """Subtract (sign -1, at the start) or add (sign 1, at the end) the clocks now."""
        self.wall += sign * time.perf_counter()
        self.server_cpu += sign * cpu_seconds(self.server_pid)
        self.client_cpu += sign * time.process_time()


async def drive(
    base: str, token: str, till: Till, concurrency: int, seconds: float, usage: Usage
) -> tuple[Load, Load]:
    """`concurrency` clients: a warm-up, then `seconds` measured (into `usage` too)."""
    warmup, load = Load(), Load()
    warmup_end = time.perf_counter() + WARMUP_SECONDS
    phases = [(warmup_end, warmup), (warmup_end + seconds, load)]

    async def measure() -> None:
        await asyncio.sleep(warmup_end - time.perf_counter())
        usage.sample(-1)

    await asyncio.gather(
        measure(), *(client(base, token, till, phases) for _ in range(concurrency))
    )
    usage.sample(1)
    return warmup, load


# --- where the server's time goes ------------------------------------------------------

API_LAYERS = (  # first match wins, then profile_purchase's layers
    ("HTTP server (uvicorn, h11, httptools)", "uvicorn"),
    ("HTTP server (uvicorn, h11, httptools)", "/h11/"),
    ("HTTP server (uvicorn, h11, httptools)", "httptools"),
    ("FastAPI and Starlette (routing, dependencies, responses)", "/fastapi/"),
    ("FastAPI and Starlette (routing, dependencies, responses)", "/starlette/"),
    ("FastAPI and Starlette (routing, dependencies, responses)", "/anyio/"),
    ("pydantic (request validation)", "pydantic"),
    ("JSON encoding and decoding", "/json/"),
    *LAYERS,
)


def layer_shares(stats: pstats.Stats) -> dict[str, float]:
    """Own profiled time by layer, as fractions of the total, largest first."""
    totals: dict[str, float] = {}
    for (filename, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{filename}:{function}"
        name = next(
            (name for name, mark in API_LAYERS if mark in where), "other (builtins, stdlib)"
        )
        totals[name] = totals.get(name, 0.0) + row[2]
    total = sum(totals.values()) or 1.0
    return {
        name: seconds / total for name, seconds in sorted(totals.items(), key=lambda item: -item[1])
    }


def print_profile(database: str, path: Path) -> None:
    """The server's own time by layer, and its top functions by cumulative time."""
    stats = pstats.Stats(str(path))
    print(f"[{database}] server time by layer (cProfile, own time):")
    for name, share in layer_shares(stats).items():
        print(f"  {100 * share:5.1f}%  {name}")
    stats.strip_dirs().sort_stats("cumulative").print_stats(PROFILE_TOP)


# --- one database ------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """The API measured on one database."""

    database: str
    load: Load
    usage: Usage
    recorded: int  # receipts in the database after the run (warm-up included)
    answered: int  # 201s, warm-up included
    drifts: int
    concurrency: int
    members: int

    @property
    def per_second(self) -> float:
        """Purchases created per second of wall time."""
        return self.load.statuses.get(201, 0) / self.usage.wall

    def percentile_ms(self, fraction: float) -> float:
        """The latency below which `fraction` of the answered requests finished, in ms."""
        ordered = sorted(self.load.latencies) or [0.0]
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def cells(self) -> list[str]:
        """One table row."""
        created = max(1, self.load.statuses.get(201, 0))
        met = (
            self.per_second >= target_per_s(self.concurrency)
            and self.percentile_ms(0.99) < TARGET_P99_MS
        )
        return [
            self.database,
            "POST /api/v1/purchases",
            f"{self.per_second:,.0f}",
            f"{self.percentile_ms(0.5):.1f}",
            f"{self.percentile_ms(0.99):.1f}",
            f"{self.percentile_ms(1.0):.0f}",
            str(self.load.errors),
            f"{1000 * self.usage.server_cpu / created:.2f}",
            f"{100 * self.usage.server_cpu / self.usage.wall:.0f}",
            f"{100 * self.usage.client_cpu / self.usage.wall:.0f}",
            str(self.concurrency),
            f"{self.members:,}",
            "held"
            if not self.drifts and self.recorded == self.answered
            else f"{self.drifts} drifts, {self.recorded} rows for {self.answered} 201s",
            "yes" if met else "no",
        ]


async def prepare(url: str, members: int) -> str:
    """Load the members and create a `purchases` token; its secret."""
    database = Database(url)
    try:
        await create_schema(database)
        now = datetime.now(UTC)
        await bulk_load(database, load_program(default_program_path()), members, now)
        secret, _ = await create_token(
            SqlUnitOfWork(database), "bench", frozenset({"purchases"}), now
        )
    finally:
        await database.dispose()
    return secret


async def afterwards(url: str) -> tuple[int, int]:
    """Receipts recorded, and ledger invariant drifts."""
    database = Database(url)
    try:
        async with database.reader.connect() as conn:
            recorded = (
                await conn.execute(
                    select(func.count())
                    .select_from(PurchaseRow)
                    .where(PurchaseRow.c.merchant == MERCHANT)
                )
            ).scalar_one()
        return int(recorded), len(await check_invariants(database))
    finally:
        await database.dispose()


async def bench(name: str, url: str, args: argparse.Namespace) -> Result:
    """Load, serve in a subprocess, drive the clients, check the ledger."""
    print(f"[{name}] loading {args.members:,} members ...", flush=True)
    token = await prepare(url, args.members)
    port, profile = free_port(), Path(tempfile.mkdtemp(prefix="loyalty-api-")) / "server.prof"
    options = ["--profile-to", str(profile)] if args.profile else []
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.benchmarks.api_bench",
        "--serve",
        url,
        "--port",
        str(port),
        *options,
    )
    try:
        await wait_until_listening(port, server)
        print(f"[{name}] {args.concurrency} clients for {args.seconds:g} s ...", flush=True)
        usage = Usage(server.pid)
        warmup, load = await drive(
            f"http://127.0.0.1:{port}",
            token,
            Till(args.members),
            args.concurrency,
            args.seconds,
            usage,
        )
    finally:
        server.send_signal(signal.SIGTERM)
        await server.wait()
    if args.profile:
        print_profile(name, profile)
    shutil.rmtree(profile.parent)
    recorded, drifts = await afterwards(url)
    answered = warmup.statuses.get(201, 0) + load.statuses.get(201, 0)
    return Result(name, load, usage, recorded, answered, drifts, args.concurrency, args.members)


# --- main --------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    """Benchmark each requested database and print the table."""
    pg_version, pg_problem = await postgres_version()
    results = []
    for name in args.databases:
        if name == "sqlite":
            with sqlite_url() as url:
                results.append(await bench(name, url, args))
        elif pg_problem:
            print(f"[postgresql] skipped: {pg_problem}")
        else:
            async with postgres_url() as url:
                results.append(await bench(name, url, args))
    measured = {result.database for result in results}
    print(f"\nMachine: {machine_line(pg_version if 'postgresql' in measured else None)}\n")
    print(
        render(
            [
                "database",
                "request",
                "purchases/s",
                "p50 ms",
                "p99 ms",
                "max ms",
                "errors",
                "server CPU ms/purchase",
                "server CPU %",
                "client CPU %",
                "concurrency",
                "members",
                "ledger",
                f"≥ {target_per_s(args.concurrency):,}/s, p99 < {TARGET_P99_MS:.0f} ms",
            ],
            [result.cells() for result in results],
            args.markdown,
        )
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line (`--serve URL --port P` is the server subprocess)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the server under cProfile and print its time by layer "
        "(the rates are then not comparable)",
    )
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = set(args.databases) - set(DATABASES)
    if unknown or not args.databases:
        parser.error(f"--databases takes {' and/or '.join(DATABASES)}, got {sorted(unknown)}")
    return args


def serve_until_terminated(url: str, port: int, profile_to: str | None) -> None:
    """The server subprocess: serve until SIGTERM, then write its profile if asked to."""
    # uvicorn stops on SIGTERM and then raises it again for the handler it found: a no-op,
    # so the process ends normally, disposing of the engine and writing the profile.
    signal.signal(signal.SIGTERM, lambda *_: None)
    profiler = cProfile.Profile() if profile_to else None
    if profiler is not None:
        profiler.enable()
    asyncio.run(serve(url, port))
    if profiler is not None and profile_to:
        profiler.disable()
        profiler.dump_stats(profile_to)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `python -m tests.benchmarks.api_bench`."""
    args = parse_args(argv)
    if args.serve:
        serve_until_terminated(args.serve, args.port, args.profile_to)
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
