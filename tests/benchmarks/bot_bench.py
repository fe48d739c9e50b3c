"""The loyalty bot end to end through the Bot API emulator, beside a bare echo bot.

    python -m tests.benchmarks.bot_bench [--members 500] [--rounds 5]
        [--frameworks aiogram,ptb] [--databases sqlite,postgresql] [--before DIR]
        [--profile DIR]

Per framework, a bare echo bot and then the loyalty bot (`run_bot`, as `loyalty-bot run`)
on each database (a throwaway SQLite file; a throwaway PostgreSQL database on the server
named by TEST_POSTGRES_DSN, skipped with the reason when it cannot be reached) each run in
their own subprocess (`bot_process`), long polling a fresh emulator that runs in this
process. Every member first sends /start, untimed: the members join (the echo bot just
echoes it) and the bot warms up. Then come `--rounds` bursts in which every member sends
/balance at once, then as many of /rewards; a burst is timed from the first message until
every member has their reply.

`--before DIR` also runs the loyalty bot from the code in DIR (for example a git worktree
of an earlier commit) right after this tree's, per framework and database, so a change is
measured before and after side by side, against the same bare bot.

Reported per bot: updates/s per command and the ratio to the bare bot of the same
framework; the subprocess's VmRSS (from /proc) after the /start and /balance bursts
(members x (1 + rounds) updates: 3,000 by default) and how far above the bare bot that is;
CPU time per update of the bot process and of this process (the emulator). `--profile DIR`
runs this tree's loyalty bots under cProfile during the timed bursts and writes
DIR/<framework>-<database>.prof (the rates are then not comparable).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

from bot.emulator import ApiCall, Emulator, SimulatedUser
from tests.benchmarks.bot_process import TOKEN
from tests.benchmarks.service_bench import postgres_url, postgres_version

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
USERNAME = "northwind_loyalty_bot"
FIRST_ID = 10_001
BURST_TIMEOUT = 300.0  # seconds for every member of one burst to get a reply
STOP_TIMEOUT = 10.0
COMMANDS = ("/balance", "/rewards")
SPEED_TARGETS = {"/balance": 0.75, "/rewards": 0.6}  # loyalty bot: share of the bare bot's rate
MEMORY_TARGET_MB = 60.0  # loyalty bot: at most this far above the bare bot of its framework
DATABASES = ("sqlite", "postgresql")
REPLIES = ("sendMessage", "sendPhoto")
EXPECTED: dict[str, dict[str, Callable[[str], bool]]] = {  # kind -> sent text -> reply ok?
    "loyalty": {
        "/start": lambda text: "Welcome" in text,
        "/balance": lambda text: "points" in text,
        "/rewards": lambda text: "Rewards" in text,
    },
    "echo": {
        text: (lambda sent: lambda text: text == sent)(text) for text in ("/start", *COMMANDS)
    },
}


class BotDied(RuntimeError):
    """The bot's process ended while the benchmark was waiting on it."""


@dataclass(frozen=True)
class Bot:
    """Which bot to measure: echo or loyalty, on which framework, database and code."""

    framework: str
    kind: str
    database: str = ""  # the loyalty bot's; "" for the echo bot
    code: str = "this tree"  # or "before", the code of --before


@dataclass(frozen=True)
class Measurement:
    """One bot measured on one framework."""

    bot: Bot
    bursts: dict[str, list[float]]  # command -> seconds per timed burst
    members: int
    rss_joined_mb: float  # after the untimed /start burst
    rss_mb: float  # after /start and the /balance bursts
    peak_mb: float  # VmHWM after all the traffic
    bot_cpu: dict[str, float]  # command -> seconds of the bot process during its bursts
    emulator_cpu: dict[str, float]  # command -> seconds of this process during its bursts

    def updates(self, command: str) -> int:
        """Updates of `command` handled in the timed bursts."""
        return self.members * len(self.bursts[command])

    def rate(self, command: str) -> float:
        """Updates per second of `command` over all its timed bursts."""
        return self.updates(command) / sum(self.bursts[command])

    def burst_rates(self, command: str) -> list[float]:
        """Updates per second of each burst of `command`."""
        return [self.members / seconds for seconds in self.bursts[command]]

    def ms_per_update(self, cpu_seconds: dict[str, float], command: str) -> float:
        """CPU milliseconds per handled update of `command`."""
        return 1000 * cpu_seconds[command] / self.updates(command)


# --- the bot's process -------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, str]:
    """/proc/<pid>/status as a dict."""
    lines = Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line)


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A memory figure of a process (VmRSS, VmHWM ...) in MB (10^6 bytes)."""
    kilobytes = int(proc_status(pid)[field].split()[0])
    return kilobytes * 1024 / 1e6


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class BotProcess:
    """A bot running in a subprocess, its output going to a log file."""

    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        """The subprocess's id."""
        return self.process.pid

    async def watch(self, work: Awaitable[T]) -> T:
        """Await `work`, or raise BotDied (with the log's tail) if the bot exits first."""
        job = asyncio.ensure_future(work)
        exited = asyncio.ensure_future(self.process.wait())
        await asyncio.wait({job, exited}, return_when=asyncio.FIRST_COMPLETED)
        if job.done():
            exited.cancel()
            return job.result()
        job.cancel()
        with suppress(asyncio.CancelledError, TimeoutError):
            await job
        tail = self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise BotDied(f"the bot exited with {self.process.returncode}:\n{tail}")

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not ended within STOP_TIMEOUT."""
        if self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


@asynccontextmanager
async def bot_process(
    bot: Bot, base_url: str, db_url: str, workdir: Path, code: Path, profile: Path | None
) -> AsyncIterator[BotProcess]:
    """`python -m tests.benchmarks.bot_process ...` from `code`, running until the block ends."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(code))
    if profile is not None:
        env["BOT_BENCH_PROFILE"] = str(profile)
    log = workdir / f"{bot.framework}-{bot.kind}.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.benchmarks.bot_process",
            bot.kind,
            bot.framework,
            base_url,
            db_url,
            cwd=code,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    running = BotProcess(process, log)
    try:
        yield running
    finally:
        await running.stop()


# --- traffic -----------------------------------------------------------------------------


class ReplyCounter:
    """Counts the bot's successful sends, scanning only the calls not seen before.

    Cheap enough for a `wait_until` predicate, which runs after every bot call.
    """

    def __init__(self, calls: list[ApiCall]) -> None:
        self._calls = calls
        self._seen = 0
        self._count = 0

    def __call__(self) -> int:
        calls = self._calls
        while self._seen < len(calls):
            call = calls[self._seen]
            self._seen += 1
            if call.ok and call.method in REPLIES:
                self._count += 1
        return self._count


def check_replies(
    users: list[SimulatedUser], expected: int, looks_right: Callable[[str], bool]
) -> None:
    """Every member has exactly `expected` bot messages, the last one the right reply."""
    for user in users:
        messages = user.messages
        if len(messages) != expected:
            raise AssertionError(f"{user}: {len(messages)} bot messages, expected {expected}")
        text = messages[-1].text or messages[-1].caption or ""
        if not looks_right(text):
            raise AssertionError(f"{user}: unexpected reply {text[:80]!r}")


async def burst(
    emu: Emulator,
    bot: BotProcess,
    users: list[SimulatedUser],
    text: str,
    replies: ReplyCounter,
    looks_right: Callable[[str], bool],
    nth: int,
) -> float:
    """Every member sends `text` at once (their `nth` message); seconds until all have a reply."""
    target = replies() + len(users)
    started = time.perf_counter()
    for user in users:
        await user.send(text)
    await bot.watch(emu.wait_until(lambda: replies() >= target, BURST_TIMEOUT))
    elapsed = time.perf_counter() - started
    check_replies(users, nth, looks_right)
    return elapsed


@asynccontextmanager
async def database_url(database: str, workdir: Path) -> AsyncIterator[str]:
    """A fresh database for one loyalty bot ('' for the echo bot, which has none)."""
    if database == "postgresql":
        async with postgres_url(f"bot_bench_{os.getpid()}") as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{workdir}/loyalty.db" if database else ""


async def measure(
    bot: Bot, code: Path, members: int, rounds: int, workdir: Path, profile: Path | None
) -> Measurement:
    """Start one bot against a fresh emulator, join the members, time the bursts."""
    expected = EXPECTED[bot.kind]
    bursts: dict[str, list[float]] = {}
    bot_cpu: dict[str, float] = {}
    emulator_cpu: dict[str, float] = {}
    async with AsyncExitStack() as stack:
        emu = await stack.enter_async_context(Emulator(token=TOKEN, bot_username=USERNAME))
        users = [emu.user(FIRST_ID + n, f"Member {n}", language_code="en") for n in range(members)]
        replies = ReplyCounter(emu.calls)
        db_url = await stack.enter_async_context(database_url(bot.database, workdir))
        running = await stack.enter_async_context(
            bot_process(bot, emu.base_url, db_url, workdir, code, profile)
        )
        await burst(emu, running, users, "/start", replies, expected["/start"], 1)
        rss_joined = memory_mb(running.pid)
        if profile is not None:
            running.process.send_signal(signal.SIGUSR1)
        nth = 2
        for command in COMMANDS:
            started = cpu_seconds(running.pid), time.process_time()
            bursts[command] = []
            for _ in range(rounds):
                bursts[command].append(
                    await burst(emu, running, users, command, replies, expected[command], nth)
                )
                nth += 1
            bot_cpu[command] = cpu_seconds(running.pid) - started[0]
            emulator_cpu[command] = time.process_time() - started[1]
            if command == COMMANDS[0]:
                rss = memory_mb(running.pid)
        peak = memory_mb(running.pid, "VmHWM")
    return Measurement(bot, bursts, members, rss_joined, rss, peak, bot_cpu, emulator_cpu)


async def run_all(args: argparse.Namespace) -> list[Measurement]:
    """Per framework: the echo bot, then the loyalty bot on each database (this tree's code,
    then the code of --before); temp files and databases removed."""
    codes = [("this tree", ROOT)] + ([("before", args.before)] if args.before else [])
    results = []
    with tempfile.TemporaryDirectory(prefix="bot-bench-") as tmp:
        for framework in args.frameworks:
            bots = [(Bot(framework, "echo"), ROOT)] + [
                (Bot(framework, "loyalty", database, label), code)
                for database in args.databases
                for label, code in codes
            ]
            for bot, code in bots:
                workdir = Path(tmp) / f"{len(results)}"
                workdir.mkdir()
                profile = (
                    args.profile / f"{framework}-{bot.database}.prof"
                    if args.profile and bot.kind == "loyalty" and code == ROOT
                    else None
                )
                print(
                    f"… {framework} {bot.kind} {bot.database} {bot.code} "
                    f"(load {os.getloadavg()[0]:.1f})",
                    file=sys.stderr,
                    flush=True,
                )
                results.append(
                    await measure(bot, code, args.members, args.rounds, workdir, profile)
                )
    return results


# --- report ------------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    with suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_line(pg_version: str | None) -> str:
    """Date, cores, CPU, Python, framework and database versions."""
    postgres = f"; PostgreSQL {pg_version}" if pg_version else ""
    return (
        f"Machine: {date.today()}; nproc {os.cpu_count()} ({cpu_model()}); "
        f"Python {platform.python_version()}; aiogram {version('aiogram')}; "
        f"python-telegram-bot {version('python-telegram-bot')}; "
        f"SQLAlchemy {version('SQLAlchemy')}{postgres}"
    )


def name(bot: Bot) -> str:
    """How a row names its bot."""
    if bot.kind == "echo":
        return "bare echo"
    return f"loyalty, {bot.database}" + (", before" if bot.code == "before" else "")


def met(row: Measurement, bare: Measurement) -> str:
    """Which targets a loyalty row meets."""
    verdicts = [
        f"{command} {'yes' if row.rate(command) / bare.rate(command) >= target else 'no'}"
        for command, target in SPEED_TARGETS.items()
    ]
    above = row.rss_mb - bare.rss_mb
    verdicts.append(f"memory {'yes' if above <= MEMORY_TARGET_MB else 'no'}")
    return "; ".join(verdicts)


def main_table(results: list[Measurement]) -> list[str]:
    """Throughput and memory, loyalty beside bare, with the targets."""
    targets = ", ".join(f"{command} ≥ {target}×" for command, target in SPEED_TARGETS.items())
    lines = [
        f"| framework | bot | /balance updates/s | ratio | /rewards updates/s | ratio "
        f"| RSS MB | above bare MB | met ({targets}; ≤ bare + {MEMORY_TARGET_MB:.0f} MB) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    bare = {r.bot.framework: r for r in results if r.bot.kind == "echo"}
    for row in results:
        base = bare[row.bot.framework]
        cells = [row.bot.framework, name(row.bot)]
        for command in COMMANDS:
            cells += [f"{row.rate(command):,.0f}", f"{row.rate(command) / base.rate(command):.2f}"]
        if row.bot.kind == "echo":
            cells += [f"{row.rss_mb:.0f}", "—", "—"]
        else:
            cells += [f"{row.rss_mb:.0f}", f"{row.rss_mb - base.rss_mb:+.0f}", met(row, base)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def detail_table(results: list[Measurement]) -> list[str]:
    """Per-burst rates, CPU per update on each side, and memory at other moments."""
    lines = [
        "| framework | bot | command | updates/s per burst | bot CPU ms/update "
        "| emulator CPU ms/update | RSS after joins MB | peak RSS MB |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in results:
        for command in COMMANDS:
            rates = ", ".join(f"{rate:,.0f}" for rate in row.burst_rates(command))
            lines.append(
                f"| {row.bot.framework} | {name(row.bot)} | {command} | {rates}"
                f" | {row.ms_per_update(row.bot_cpu, command):.2f}"
                f" | {row.ms_per_update(row.emulator_cpu, command):.2f}"
                f" | {row.rss_joined_mb:.0f} | {row.peak_mb:.0f} |"
            )
    return lines


def report(results: list[Measurement], args: argparse.Namespace, pg_version: str | None) -> str:
    """The markdown report: machine line, what ran, both tables."""
    updates = args.members * (1 + args.rounds)
    return "\n".join(
        [
            machine_line(pg_version),
            "",
            f"{args.members} members, /start untimed, then {args.rounds} timed bursts of "
            f"{args.members} for each of {', '.join(COMMANDS)}; RSS after {updates:,} updates "
            f"(/start and /balance); each bot in its own subprocess, the emulator in the "
            f"benchmark's process ({os.cpu_count()} cores); the bare PTB echo bot runs on PTB's "
            f"defaults (one update at a time).",
            "",
            *main_table(results),
            "",
            *detail_table(results),
        ]
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--frameworks", default="aiogram,ptb")
    parser.add_argument("--databases", default=",".join(DATABASES))
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="also run the loyalty bot from the code in this directory",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="write cProfile stats of the loyalty bots' bursts here",
    )
    args = parser.parse_args(argv)
    args.frameworks = [n.strip() for n in args.frameworks.split(",") if n.strip()]
    args.databases = [n.strip() for n in args.databases.split(",") if n.strip()]
    if (
        not set(args.frameworks) <= {"aiogram", "ptb"}
        or not set(args.databases) <= set(DATABASES)
        or args.members < 1
        or args.rounds < 1
    ):
        parser.error(
            "frameworks: aiogram and/or ptb; databases: sqlite and/or postgresql; "
            "members and rounds at least 1"
        )
    if args.before is not None and not (args.before / "bot").is_dir():
        parser.error(f"--before {args.before}: no bot/ package there")
    return args


async def run(args: argparse.Namespace) -> str:
    """Check PostgreSQL (dropped from the run, with the reason, when unreachable), measure,
    and return the report."""
    pg_version = None
    if "postgresql" in args.databases:
        pg_version, problem = await postgres_version()
        if problem:
            print(f"[postgresql] skipped: {problem}", file=sys.stderr)
            args.databases.remove("postgresql")
    return report(await run_all(args), args, pg_version)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the report."""
    args = parse(argv)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
