"""The loyalty bot end to end through the Bot API emulator, beside a bare echo bot.

    python -m tests.benchmarks.bot_bench [--members 500] [--rounds 5]
        [--frameworks aiogram,ptb] [--profile DIR]

Per framework, a bare echo bot and then the loyalty bot (`run_bot`, as `loyalty-bot run`,
on a throwaway SQLite file) each run in their own subprocess (`bot_process`), long
polling a fresh emulator that runs in this process. Every member first sends /start,
untimed: the members join (the echo bot just echoes it) and the bot warms up. Then come
`--rounds` bursts in which every member sends /balance at once; a burst is timed from
the first message until every member has their reply.

Reported per bot: updates/s over the timed bursts and the ratio to the bare bot of the
same framework, the subprocess's VmRSS (from /proc) after the traffic and how far above
the bare bot that is, and the CPU time per update of the bot process and of this process
(the emulator). `--profile DIR` runs the loyalty bots under cProfile during the timed
bursts and writes DIR/<framework>.prof (the rates are then not comparable).
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
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

from bot.emulator import ApiCall, Emulator, SimulatedUser
from tests.benchmarks.bot_process import TOKEN

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
USERNAME = "northwind_loyalty_bot"
FIRST_ID = 10_001
BURST_TIMEOUT = 300.0  # seconds for every member of one burst to get a reply
STOP_TIMEOUT = 10.0
SPEED_TARGET = 0.6  # loyalty bot on aiogram: at least this share of the bare bot's rate
MEMORY_TARGET_MB = 60.0  # loyalty bot: at most this far above the bare bot of its framework
REPLIES = ("sendMessage", "sendPhoto")
EXPECTED: dict[str, dict[str, Callable[[str], bool]]] = {  # kind -> sent text -> reply ok?
    "loyalty": {"/start": lambda text: "Welcome" in text,
                "/balance": lambda text: "points" in text},
    "echo": {"/start": lambda text: text == "/start",
             "/balance": lambda text: text == "/balance"},
}


class BotDied(RuntimeError):
    """The bot's process ended while the benchmark was waiting on it."""


@dataclass(frozen=True)
class Measurement:
    """One bot measured on one framework."""

    framework: str
    kind: str
    bursts: list[float]  # seconds per timed burst
    members: int
    rss_joined_mb: float  # after the untimed /start burst
    rss_mb: float  # after all the traffic
    peak_mb: float  # VmHWM after all the traffic
    bot_cpu: float  # seconds of the bot process during the timed bursts
    emulator_cpu: float  # seconds of this process during the timed bursts

    @property
    def updates(self) -> int:
        """Updates handled in the timed bursts."""
        return self.members * len(self.bursts)

    @property
    def rate(self) -> float:
        """Updates per second over all timed bursts."""
        return self.updates / sum(self.bursts)

    @property
    def burst_rates(self) -> list[float]:
        """Updates per second of each burst."""
        return [self.members / seconds for seconds in self.bursts]

    def ms_per_update(self, cpu_seconds: float) -> float:
        """CPU milliseconds per handled update."""
        return 1000 * cpu_seconds / self.updates


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
async def bot_process(kind: str, framework: str, base_url: str, workdir: Path,
                      profile: Path | None) -> AsyncIterator[BotProcess]:
    """`python -m tests.benchmarks.bot_process ...` running until the block ends."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if profile is not None:
        env["BOT_BENCH_PROFILE"] = str(profile)
    db_url = f"sqlite+aiosqlite:///{workdir}/loyalty.db"
    log = workdir / f"{framework}-{kind}.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.benchmarks.bot_process", kind, framework, base_url,
            db_url, cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=output,
            stderr=asyncio.subprocess.STDOUT)
    bot = BotProcess(process, log)
    try:
        yield bot
    finally:
        await bot.stop()


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


def check_replies(users: list[SimulatedUser], expected: int,
                  looks_right: Callable[[str], bool]) -> None:
    """Every member has exactly `expected` bot messages, the last one the right reply."""
    for user in users:
        messages = user.messages
        if len(messages) != expected:
            raise AssertionError(f"{user}: {len(messages)} bot messages, expected {expected}")
        text = messages[-1].text or messages[-1].caption or ""
        if not looks_right(text):
            raise AssertionError(f"{user}: unexpected reply {text[:80]!r}")


async def burst(emu: Emulator, bot: BotProcess, users: list[SimulatedUser], text: str,
                replies: ReplyCounter, looks_right: Callable[[str], bool], nth: int) -> float:
    """Every member sends `text` at once (their `nth` message); seconds until all have a reply."""
    target = replies() + len(users)
    started = time.perf_counter()
    for user in users:
        await user.send(text)
    await bot.watch(emu.wait_until(lambda: replies() >= target, BURST_TIMEOUT))
    elapsed = time.perf_counter() - started
    check_replies(users, nth, looks_right)
    return elapsed


async def measure(framework: str, kind: str, members: int, rounds: int, workdir: Path,
                  profile: Path | None) -> Measurement:
    """Start one bot against a fresh emulator, join the members, time the /balance bursts."""
    expected = EXPECTED[kind]
    async with Emulator(token=TOKEN, bot_username=USERNAME) as emu:
        users = [emu.user(FIRST_ID + n, f"Member {n}", language_code="en")
                 for n in range(members)]
        replies = ReplyCounter(emu.calls)
        async with bot_process(kind, framework, emu.base_url, workdir, profile) as bot:
            await burst(emu, bot, users, "/start", replies, expected["/start"], 1)
            rss_joined = memory_mb(bot.pid)
            if profile is not None:
                bot.process.send_signal(signal.SIGUSR1)
            bot_cpu, emulator_cpu = cpu_seconds(bot.pid), time.process_time()
            bursts = [await burst(emu, bot, users, "/balance", replies,
                                  expected["/balance"], 2 + n) for n in range(rounds)]
            bot_cpu, emulator_cpu = (cpu_seconds(bot.pid) - bot_cpu,
                                     time.process_time() - emulator_cpu)
            rss, peak = memory_mb(bot.pid), memory_mb(bot.pid, "VmHWM")
    return Measurement(framework, kind, bursts, members, rss_joined, rss, peak, bot_cpu,
                       emulator_cpu)


async def run_all(frameworks: list[str], members: int, rounds: int,
                  profile_dir: Path | None) -> list[Measurement]:
    """Echo then loyalty bot, per framework, one after the other; temp files removed."""
    results = []
    with tempfile.TemporaryDirectory(prefix="bot-bench-") as tmp:
        for framework in frameworks:
            for kind in ("echo", "loyalty"):
                workdir = Path(tmp) / f"{framework}-{kind}"
                workdir.mkdir()
                profile = (profile_dir / f"{framework}.prof"
                           if profile_dir is not None and kind == "loyalty" else None)
                print(f"… {framework} {kind}", file=sys.stderr, flush=True)
                results.append(await measure(framework, kind, members, rounds, workdir,
                                             profile))
    return results


# --- report ------------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    with suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_line() -> str:
    """Date, cores, CPU, Python and framework versions."""
    return (f"Machine: {date.today()}; nproc {os.cpu_count()} ({cpu_model()}); "
            f"Python {platform.python_version()}; aiogram {version('aiogram')}; "
            f"python-telegram-bot {version('python-telegram-bot')}; "
            f"SQLAlchemy {version('SQLAlchemy')}")


def verdicts(row: Measurement, bare: Measurement) -> tuple[str, str]:
    """The target cell and the met cell of a loyalty row."""
    ratio, above = row.rate / bare.rate, row.rss_mb - bare.rss_mb
    memory = "yes" if above <= MEMORY_TARGET_MB else "no"
    if row.framework == "aiogram":
        speed = "yes" if ratio >= SPEED_TARGET else "no"
        return (f"≥ {SPEED_TARGET}× bare; ≤ bare + {MEMORY_TARGET_MB:.0f} MB",
                f"speed {speed}; memory {memory}")
    return (f"≤ bare + {MEMORY_TARGET_MB:.0f} MB (speed: reported only)",
            f"memory {memory}")


def main_table(results: list[Measurement]) -> list[str]:
    """Throughput and memory, loyalty beside bare, with the targets."""
    lines = ["| framework | bot | updates/s | ratio to bare | RSS MB | RSS above bare MB "
             "| target | met |", "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |"]
    bare = {r.framework: r for r in results if r.kind == "echo"}
    for row in results:
        base = bare[row.framework]
        if row.kind == "echo":
            cells = ["bare echo", f"{row.rate:,.0f}", "1.00", f"{row.rss_mb:.0f}", "—",
                     "—", "—"]
        else:
            target, met = verdicts(row, base)
            cells = ["loyalty", f"{row.rate:,.0f}", f"{row.rate / base.rate:.2f}",
                     f"{row.rss_mb:.0f}", f"{row.rss_mb - base.rss_mb:+.0f}", target, met]
        lines.append("| " + " | ".join([row.framework, *cells]) + " |")
    return lines


def detail_table(results: list[Measurement]) -> list[str]:
    """Per-burst rates, CPU per update on each side, and memory at other moments."""
    lines = ["| framework | bot | updates/s per burst | bot CPU ms/update "
             "| emulator CPU ms/update | RSS after joins MB | peak RSS MB |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for row in results:
        rates = ", ".join(f"{rate:,.0f}" for rate in row.burst_rates)
        lines.append(f"| {row.framework} | {'loyalty' if row.kind == 'loyalty' else 'bare echo'}"
                     f" | {rates} | {row.ms_per_update(row.bot_cpu):.2f}"
                     f" | {row.ms_per_update(row.emulator_cpu):.2f}"
                     f" | {row.rss_joined_mb:.0f} | {row.peak_mb:.0f} |")
    return lines


def report(results: list[Measurement], members: int, rounds: int) -> str:
    """The markdown report: machine line, what ran, both tables."""
    return "\n".join([
        machine_line(), "",
        f"{members} members, /start untimed, then {rounds} timed /balance bursts of "
        f"{members}; each bot in its own subprocess, the emulator in the benchmark's "
        f"process ({os.cpu_count()} cores); the bare PTB echo bot runs on PTB's defaults "
        "(one update at a time).", "",
        *main_table(results), "", *detail_table(results)])


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--frameworks", default="aiogram,ptb")
    parser.add_argument("--profile", type=Path, default=None,
                        help="write cProfile stats of the loyalty bots' bursts here")
    args = parser.parse_args(argv)
    args.frameworks = [name.strip() for name in args.frameworks.split(",") if name.strip()]
    if not set(args.frameworks) <= {"aiogram", "ptb"} or args.members < 1 or args.rounds < 1:
        parser.error("frameworks: aiogram and/or ptb; members and rounds at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the report."""
    args = parse(argv)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    results = asyncio.run(run_all(args.frameworks, args.members, args.rounds, args.profile))
    print(report(results, args.members, args.rounds))


if __name__ == "__main__":
    main()
