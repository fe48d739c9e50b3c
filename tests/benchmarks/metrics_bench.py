"""`loyalty-bot report` on a large program: wall time and peak memory, per database and format.

    .venv/bin/python -m tests.benchmarks.metrics_bench [--members N] [--receipts N]
                                                       [--databases sqlite,postgresql]

Makes the data inside the database itself (a recursive CTE on SQLite, generate_series on
PostgreSQL), in a schema made by the migrations: N members (default 200,000) over two
years, N receipts (default 2,000,000) over the year before 2026-11-30, one in 40 refunded
in full and one in 41 in part, a ledger transaction per receipt and member, vouchers,
invitations and donations. Then each format of `loyalty-bot report` for the 30 days before
2026-11-30 runs in a fresh process; its wall time and peak resident memory (the whole
process and any workers it starts, sampled every 50 ms) are printed. The table runs the
period and the previous one, so twice the queries.
Each receipt carries one or two stored lines, which `simulate_bench` replays.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import text

from storage.database import Database
from storage.migrate import upgrade
from tests.benchmarks.service_bench import postgres_url

END = "2026-11-30"
YEAR = 31_536_000  # seconds
PERIOD = ["--since", "2026-10-31", "--until", END]


def moment(dialect: str, seconds_before: str) -> str:
    """SQL for the instant `seconds_before` (an SQL expression) before END."""
    if dialect == "sqlite":
        return f"strftime('%Y-%m-%d %H:%M:%S.000000', '{END}', (-({seconds_before})) || ' seconds')"
    return f"(timestamp '{END}' - ({seconds_before}) * interval '1 second')"


def rows(dialect: str, table: str, columns: str, values: str, count: int) -> str:
    """An INSERT of `count` rows, `values` an SQL select list over the row number `i`."""
    if dialect == "sqlite":
        return (
            f"INSERT INTO {table} ({columns}) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
            f"SELECT i + 1 FROM n WHERE i < {count}) SELECT {values} FROM n"
        )
    return (
        f"INSERT INTO {table} ({columns}) SELECT {values} "
        f"FROM generate_series(1::bigint, {count}) AS n(i)"
    )


def receipt_lines(dialect: str) -> str:
    """SQL for receipt `i`'s stored lines, as `stored_lines` writes them: 1.00 to 90.00 of
    shoes (x2 points), gift cards (no points) or food, and on every fourth receipt a bag of
    BEANS-1KG (a flat item bonus) at 18.00; the lines add up to the receipt's total."""
    category = "CASE WHEN i % 7 = 0 THEN 'shoes' WHEN i % 7 = 1 THEN 'gift-cards' ELSE 'food' END"
    first = (
        f'\'{{"lines": [{{"sku": "SKU-\' || (i % 200) || \'", "category": "\' '
        f'|| {category} || \'", "quantity": 1, "unit_price": "\' '
        "|| (1 + i % 90) || '.00\"}'"
    )
    beans = ', {"sku": "BEANS-1KG", "category": "coffee", "quantity": 1, "unit_price": "18.00"}'
    document = f"{first} || CASE WHEN i % 4 = 0 THEN '{beans}' ELSE '' END || ']}}'"
    return document if dialect == "sqlite" else f"CAST({document} AS json)"


def statements(dialect: str, members: int, receipts: int) -> list[str]:
    """The INSERTs that make the data."""

    def at(seconds: str) -> str:
        return moment(dialect, seconds)

    buyer = f"1 + (i * 7919) % {members}"
    total = "10000 * (1 + i % 90 + CASE WHEN i % 4 = 0 THEN 18 ELSE 0 END)"  # in 1/10,000ths
    return [
        rows(
            dialect,
            "members",
            "id, locale, reachable, marketing_opt_in, reminders_opt_in, joined_at, tier",
            f"i, CASE WHEN i % 3 = 0 THEN 'es' ELSE 'en' END, i % 50 <> 0, true, true, "
            f"{at(f'(i * 317) % {2 * YEAR}')}, CASE WHEN i % 10 = 0 THEN 'Prime' "
            "WHEN i % 4 = 0 THEN 'Insider' ELSE 'Member' END",
            members,
        ),
        rows(
            dialect,
            "purchases",
            "merchant, receipt_id, member_id, body_hash, total, points_awarded, tier_credits, "
            "refunded, points_clawed, credits_clawed, lines, answer, occurred_at, recorded_at",
            f"'main', 'R' || i, {buyer}, 'x', {total}, 10, 10, CASE WHEN i % 40 = 0 THEN "
            f"{total} WHEN i % 41 = 0 THEN 10000 ELSE 0 END, 0, 0, {receipt_lines(dialect)}, "
            "'{}', "
            f"{at(f'(i * 157) % {YEAR}')}, {at(f'(i * 157) % {YEAR}')}",
            receipts,
        ),
        rows(
            dialect,
            "point_transactions",
            "member_id, kind, points, created_at",
            f"{buyer}, CASE WHEN i % 9 = 0 THEN 'redemption' WHEN i % 11 = 0 THEN 'expiry' "
            "ELSE 'purchase' END, CASE WHEN i % 9 = 0 THEN -50 WHEN i % 11 = 0 THEN -5 "
            f"ELSE 10 END, {at(f'(i * 157) % {YEAR}')}",
            receipts + members,
        ),
        rows(
            dialect,
            "vouchers",
            "code, member_id, reward_id, cost, issued_at, expires_at, used_at",
            f"'V' || i, 1 + i % {members}, CASE WHEN i % 2 = 0 THEN 'coffee' ELSE 'tote' "
            f"END, 100, {at(f'(i * 631) % {YEAR}')}, {at(f'(i * 631) % {YEAR} - 2592000')}, "
            f"CASE WHEN i % 3 = 0 THEN {at(f'(i * 631) % {YEAR} - 86400')} END",
            receipts // 40,
        ),
        rows(
            dialect,
            "referrals",
            "referrer_id, invitee_id, status, joined_at, qualified_at",
            f"1 + (i * 3) % {members}, i, CASE WHEN i % 2 = 0 THEN 'rewarded' "
            f"ELSE 'pending' END, {at(f'(i * 997) % {YEAR}')}, "
            f"{at(f'(i * 997) % {YEAR} - 86400')}",
            members // 10,
        ),
        rows(
            dialect,
            "donations",
            "member_id, cause_id, points, transaction_id, created_at",
            f"1 + i % {members}, CASE WHEN i % 2 = 0 THEN 'trees' ELSE 'meals' END, 100, i, "
            f"{at(f'(i * 631) % {YEAR}')}",
            receipts // 40,
        ),
    ]


async def load(url: str, members: int, receipts: int) -> float:
    """Migrate an empty database and fill it; the seconds the filling took."""
    database = Database(url)
    try:
        await upgrade(database)
        started = time.perf_counter()
        async with database.writer.begin() as conn:
            if database.dialect == "sqlite":
                await conn.execute(text("PRAGMA foreign_keys = OFF"))
            for statement in statements(database.dialect, members, receipts):
                await conn.execute(text(statement))
        if database.dialect == "postgresql":
            async with database.writer.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("ANALYZE"))
        return time.perf_counter() - started
    finally:
        await database.dispose()


def tree_rss(root: int) -> int:
    """Resident memory of process `root` and all its descendants, in bytes (0 once gone)."""
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            total += int(status.split("VmRSS:")[1].split()[0]) * 1024
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue  # gone meanwhile, or a zombie without memory
    return total


def timed_cli(url: str, arguments: Sequence[str]) -> tuple[float, float]:
    """Run `loyalty-bot ARGUMENTS` once in a fresh process: wall seconds and the peak of its
    resident memory in MB, its worker processes' included (sampled every 50 ms)."""
    command = [
        sys.executable,
        "-c",
        "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))",
        *arguments,
    ]
    started = time.perf_counter()
    child = subprocess.Popen(
        command, env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.DEVNULL
    )
    peak = 0
    while child.poll() is None:
        peak = max(peak, tree_rss(child.pid))
        time.sleep(0.05)
    wall = time.perf_counter() - started
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, command)
    return wall, peak / 2**20


async def bench(name: str, url: str, members: int, receipts: int) -> None:
    """Load, then time each format; the peak is the largest child process so far."""
    loaded = await load(url, members, receipts)
    print(
        f"{name}: {members:,} members, {receipts:,} receipts loaded in {loaded:.0f} s", flush=True
    )
    for output in ("json", "csv", "table"):
        wall, peak = timed_cli(url, ["report", *PERIOD, "--format", output])
        print(f"  report --format {output:<5} {wall:6.2f} s   peak RSS {peak:5.0f} MB", flush=True)


async def run(args: argparse.Namespace) -> None:
    """Each database in turn, SQLite in a temporary folder, PostgreSQL dropped afterwards."""
    for name in args.databases.split(","):
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite+aiosqlite:///{Path(folder) / 'metrics.db'}"
                await bench(name, url, args.members, args.receipts)
        else:
            async with postgres_url("loyalty_metrics_bench") as url:
                await bench(name, url, args.members, args.receipts)


def options(description: str | None, argv: Sequence[str] | None) -> argparse.Namespace:
    """The data size and databases of a benchmark on this data (this one and simulate's)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--receipts", type=int, default=2_000_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run."""
    asyncio.run(run(options(__doc__, argv)))


if __name__ == "__main__":
    main()
