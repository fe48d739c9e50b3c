"""`loyalty-bot run` in webhook mode on PostgreSQL: one process, then `--workers N`, side by side.

    python -m tests.benchmarks.workers_bench [--workers 1,2] [--members 500] [--rounds 5]
        [--repeat 2] [--framework aiogram|ptb]

Each configuration runs against a fresh emulator (in this process, which posts the updates
to the webhook) and a fresh PostgreSQL database (`service_bench.postgres_url`, dropped
afterwards): 1 is plain `run`, N > 1 is `run --workers N` (a supervisor and N workers
on the webhook's port, SO_REUSEPORT). As in bot_bench, every member first sends /start,
untimed, then `--rounds` bursts in which every member sends /balance at once, each timed
until every member has their reply. The configurations alternate `--repeat` times, so drift in
the machine's load falls on each alike. Replies keep no pace within Telegram's limits
(`bot_process.lift_telegram_limits`, in every worker): the bot's own speed is measured.

Reported per run: updates/s over the timed bursts, the ratio to one process, CPU ms per
update of each worker (with the share of the updates its CPU suggests it took), of the
supervisor, of this process (the emulator) and of PostgreSQL's processes, how busy the
machine's cores were during the bursts (anything running on it counts), and the resident
memory of the bot's processes together.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from bot.emulator import Emulator
from tests.benchmarks.bot_bench import (
    EXPECTED,
    FIRST_ID,
    ROOT,
    USERNAME,
    BotProcess,
    ReplyCounter,
    burst,
    cpu_seconds,
    machine_line,
    memory_mb,
)
from tests.benchmarks.bot_process import TOKEN, lift_telegram_limits
from tests.benchmarks.service_bench import postgres_url, postgres_version
from tests.e2e.test_webhook_and_restarts import free_port

SECRET = "Workers-Bench_0123456789abcdef"
PG_DATABASE = "loyalty_workers_bench"  # created afresh for each run, dropped after it
UP_WITHIN = 120.0  # seconds for every worker to be up (a bound on a hang, not a timing)
SERVING = 1.0  # seconds from a worker's "listening:" line until its webhook surely serves


@dataclass(frozen=True)
class Run:
    """One configuration measured once."""

    workers: int
    bursts: list[float]  # seconds per timed burst
    members: int
    worker_cpu: list[float]  # CPU seconds of each worker during the timed bursts
    supervisor_cpu: float  # of the supervisor (0 with one process, which is the worker)
    emulator_cpu: float  # of this process
    postgres_cpu: float  # of every PostgreSQL process (other work on the server included)
    busy: float  # share of the machine's CPU time in use, by anything
    rss_mb: float  # every bot process together, after the traffic

    @property
    def updates(self) -> int:
        """Updates handled in the timed bursts."""
        return self.members * len(self.bursts)

    @property
    def rate(self) -> float:
        """Updates per second over all timed bursts."""
        return self.updates / sum(self.bursts)

    def ms(self, cpu: float) -> float:
        """CPU milliseconds per update."""
        return 1000 * cpu / self.updates


# --- the processes -------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """The processes `pid` started (Linux /proc)."""
    return [
        int(child)
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="utf-8").split()
    ]


def postgres_cpu() -> dict[int, float]:
    """CPU seconds used so far by each process named postgres (the server's processes, for
    any client on this machine)."""
    used = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, ValueError, IndexError):
            if stat.read_text(encoding="utf-8").split(" (", 1)[1].startswith("postgres)"):
                used[int(stat.parent.name)] = cpu_seconds(int(stat.parent.name))
    return used


def postgres_since(before: dict[int, float]) -> float:
    """PostgreSQL's CPU seconds since `before`, of the processes alive now (one that ended
    meanwhile is missed; one that started counts in full)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in postgres_cpu().items())


def machine_cpu() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far (/proc/stat)."""
    ticks = [
        int(n) for n in Path("/proc/stat").read_text(encoding="utf-8").split("\n")[0].split()[1:]
    ]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return sum(ticks) - idle, sum(ticks)


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of the machine's CPU time in use between two `machine_cpu` readings."""
    return (after[0] - before[0]) / max(after[1] - before[1], 1)


def bot_env(base_url: str, db_url: str, framework: str) -> dict[str, str]:
    """`run`'s environment: the emulator, the database, a webhook on a free port, no API."""
    port = free_port()
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": db_url,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": base_url,
        "BOT_FRAMEWORK": framework,
        "API_PORT": "0",
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_PORT": str(port),
    }


@asynccontextmanager
async def bot_running(workers: int, env: dict[str, str], log: Path) -> AsyncIterator[BotProcess]:
    """This module's `serve` entry with `workers`, until the block ends."""
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.benchmarks.workers_bench",
            "serve",
            str(workers),
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    bot = BotProcess(process, log)
    try:
        yield bot
    finally:
        await bot.stop()


async def all_up(bot: BotProcess, workers: int) -> list[int]:
    """Wait until every worker serves the webhook; the workers' pids.

    The connections the emulator opens first stay open (keep-alive), so a worker that
    began serving after them would be left out of every burst.
    """
    deadline = time.monotonic() + UP_WITHIN
    while time.monotonic() < deadline:
        text = bot.log.read_text(encoding="utf-8", errors="replace")
        if text.count(" listening: ") >= workers:  # logged just before the webhook serves
            await bot.watch(asyncio.sleep(SERVING))
            return children(bot.pid) if workers > 1 else [bot.pid]
        await bot.watch(asyncio.sleep(0.2))
    raise TimeoutError(f"not every worker up:\n{bot.log.read_text()[-3000:]}")


# --- measuring ------------------------------------------------------------------------------


async def measure(workers: int, framework: str, members: int, rounds: int, workdir: Path) -> Run:
    """One configuration on a fresh emulator and database: join, then the timed bursts."""
    expected = EXPECTED["loyalty"]
    async with (
        postgres_url(PG_DATABASE) as db_url,
        Emulator(token=TOKEN, bot_username=USERNAME) as emu,
    ):
        users = [emu.user(FIRST_ID + n, f"Member {n}", language_code="en") for n in range(members)]
        replies = ReplyCounter(emu.calls)
        env = bot_env(emu.base_url, db_url, framework)
        async with bot_running(workers, env, workdir / f"workers-{workers}.log") as bot:
            pids = await all_up(bot, workers)
            await bot.watch(emu.wait_until(lambda: emu.webhook_url is not None, UP_WITHIN))
            await burst(emu, bot, users, "/start", replies, expected["/start"], 1)
            before = [cpu_seconds(pid) for pid in pids]
            supervisor, emulator = cpu_seconds(bot.pid), time.process_time()
            postgres, machine = postgres_cpu(), machine_cpu()
            bursts = [
                await burst(emu, bot, users, "/balance", replies, expected["/balance"], 2 + n)
                for n in range(rounds)
            ]
            worker_cpu = [cpu_seconds(pid) - cpu for pid, cpu in zip(pids, before, strict=True)]
            supervisor_cpu = cpu_seconds(bot.pid) - supervisor if workers > 1 else 0.0
            emulator_cpu = time.process_time() - emulator
            postgres_used = postgres_since(postgres)
            busy = busy_share(machine, machine_cpu())
            rss = sum(memory_mb(pid) for pid in {bot.pid, *pids})
    return Run(
        workers, bursts, members, worker_cpu, supervisor_cpu, emulator_cpu, postgres_used, busy, rss
    )


async def run_all(
    counts: list[int], framework: str, members: int, rounds: int, repeat: int
) -> list[Run]:
    """Every configuration `repeat` times, alternating; temporary files removed."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="workers-bench-") as tmp:
        for attempt in range(repeat):
            for workers in counts:
                workdir = Path(tmp) / f"{attempt}-{workers}"
                workdir.mkdir()
                print(f"… {workers} worker(s), run {attempt + 1}", file=sys.stderr, flush=True)
                runs.append(await measure(workers, framework, members, rounds, workdir))
    return runs


# --- report ---------------------------------------------------------------------------------


def report(
    runs: list[Run], framework: str, members: int, rounds: int, pg_version: str | None
) -> str:
    """The markdown report: machine, load, what ran, one row per run."""
    single = [run.rate for run in runs if run.workers == 1]
    base = sum(single) / len(single) if single else None
    lines = [
        machine_line(pg_version),
        f"Load average at the end: {os.getloadavg()[0]:.2f} (1 min)",
        "",
        f"{framework}, webhook mode, PostgreSQL; {members} members, /start untimed, then "
        f"{rounds} timed /balance bursts of {members}; the emulator in the benchmark's "
        f"process ({os.cpu_count()} cores for everything).",
        "",
        "| processes | updates/s | vs 1 process | worker CPU ms/update (share) "
        "| supervisor | emulator | PostgreSQL | machine busy | RSS MB (all) |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        total = sum(run.worker_cpu) or 1.0
        cpu = ", ".join(f"{run.ms(c):.2f} ({c / total:.0%})" for c in run.worker_cpu)
        label = "1 (`run`)" if run.workers == 1 else f"{run.workers} (`--workers {run.workers}`)"
        ratio = f"{run.rate / base:.2f}" if base else "—"
        lines.append(
            f"| {label} | {run.rate:,.0f} | {ratio} | {cpu} "
            f"| {run.ms(run.supervisor_cpu):.2f} | {run.ms(run.emulator_cpu):.2f} "
            f"| {run.ms(run.postgres_cpu):.2f} | {run.busy:.0%} | {run.rss_mb:.0f} |"
        )
    lines.append("")
    for workers in sorted({run.workers for run in runs}):
        rates = [run.rate for run in runs if run.workers == workers]
        mean = sum(rates) / len(rates)
        lines.append(
            f"Mean of {len(rates)} with {workers} process(es): {mean:,.0f} updates/s"
            + (f", {mean / base:.2f}× one process" if base else "")
        )
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2", help="configurations (default: 1,2)")
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--framework", choices=("aiogram", "ptb"), default="aiogram")
    args = parser.parse_args(argv)
    args.workers = [int(n) for n in args.workers.split(",") if n.strip()]
    if min(args.workers) < 1 or args.members < 1 or args.rounds < 1 or args.repeat < 1:
        parser.error("workers, members, rounds and repeat: at least 1")
    return args


# --- the bot's side: the supervisor and its workers, with Telegram's limits lifted -----------


def serve(workers: int) -> int:
    """`run` (one process) or `run --workers N` whose workers are `worker` below."""
    from bot.cli import until_stopped
    from bot.logs import setup_logging
    from bot.settings import load_settings
    from bot.workers import supervise

    if workers == 1:
        return worker()
    settings = load_settings()
    setup_logging(settings.log_level, [TOKEN, SECRET])
    command = [sys.executable, "-P", "-m", "tests.benchmarks.workers_bench", "worker"]
    with suppress(asyncio.CancelledError):
        asyncio.run(until_stopped(supervise(settings, workers, command)))
    return 0


def worker() -> int:
    """`loyalty-bot run` with replies unpaced, as a worker (or alone)."""
    from bot.cli import main

    lift_telegram_limits(os.environ["BOT_FRAMEWORK"])
    return main(["run"])


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the report (or, inside it, be the bot)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        sys.exit(serve(int(argv[1])))
    if argv[:1] == ["worker"]:
        sys.exit(worker())
    args = parse(argv)
    pg_version, problem = asyncio.run(postgres_version())
    if problem:
        sys.exit(problem)
    runs = asyncio.run(
        run_all(args.workers, args.framework, args.members, args.rounds, args.repeat)
    )
    print(report(runs, args.framework, args.members, args.rounds, pg_version))


if __name__ == "__main__":
    main()
