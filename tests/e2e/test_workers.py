"""`loyalty-bot run --workers 2` as an operator meets it, on PostgreSQL against the emulator.

Two workers serve one webhook port and share the outbox's pace and one scheduler leader;
a killed worker is started again; SIGTERM or Ctrl+C stop them all in order; a worker
stopped by a setting stops them all; SQLite, long polling and a port taken are refused in
one line; workers whose supervisor was killed stop by themselves.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from bot.cli import main
from bot.emulator import Emulator
from domain.broadcasts import BroadcastContent, BroadcastProgress
from domain.segments import Segment
from domain.services.broadcasts import queue_broadcast
from storage.database import Database
from storage.migrate import ensure_schema
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.delivery.test_emulator import members_on, strict_limits, too_fast, until_settled
from tests.delivery.test_processes import postgres_database
from tests.e2e.conftest import TOKEN
from tests.e2e.test_operations import LOYALTY_BOT, STOP_WITHIN
from tests.e2e.test_webhook_and_restarts import free_port

__all__ = ["postgres_database"]  # the fixture, shared with the delivery tests

SECRET = "Workers-Secret_0123456789abcdef"
UP = re.compile(r"worker (\d) bot\.app: bot @\w+ is up")
STARTED = re.compile(r"supervisor: worker (\d) started \(pid (\d+)\)")


class Supervisor:
    """`loyalty-bot run --workers N` with its log lines collected as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.lines.append(line.decode().rstrip())

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def matches(self, pattern: re.Pattern[str]) -> list[tuple[str, ...]]:
        return [m.groups() for line in self.lines if (m := pattern.search(line))]

    def pids(self) -> dict[int, int]:
        """Each worker's latest pid."""
        return {int(number): int(pid) for number, pid in self.matches(STARTED)}

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        for _ in range(int(STOP_WITHIN * 10)):
            if condition():
                return
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.1)
        raise AssertionError(f"no {what} in:\n{self.log[-4000:]}")

    async def ended(self) -> int:
        """Its exit code, once it ended and every line of its log has been read."""
        code = await asyncio.wait_for(self.process.wait(), STOP_WITHIN)
        await self._reader
        return code

    async def stopped(self, how: signal.Signals) -> int:
        self.process.send_signal(how)
        return await self.ended()


def env_for(emulator: Emulator, database_url: str, framework: str, **extra: str) -> dict[str, str]:
    """`run`'s environment: the emulator, a webhook and the API on free ports."""
    port = free_port()
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": emulator.base_url,
        "BOT_FRAMEWORK": framework,
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_PORT": str(port),
        "API_PORT": str(free_port()),
        **extra,
    }


@asynccontextmanager
async def supervisor(env: dict[str, str], workers: int = 2) -> AsyncIterator[Supervisor]:
    process = await asyncio.create_subprocess_exec(
        LOYALTY_BOT,
        "run",
        "--workers",
        str(workers),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    running = Supervisor(process)
    try:
        yield running
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def gone(pid: int) -> bool:
    """The process has ended (a zombie waiting for init counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


async def welcomed(emulator: Emulator, ids: range, text: str, expect: str) -> None:
    """Everyone in `ids` sends `text` at once and gets a reply with `expect` in it."""
    users = [emulator.user(user_id, f"User{user_id}", language_code="en") for user_id in ids]
    before = [len(user.messages) for user in users]
    await asyncio.gather(*(user.send(text) for user in users))
    await emulator.wait_until(
        lambda: all(len(u.messages) > n for u, n in zip(users, before, strict=True)),
        timeout=STOP_WITHIN,
    )
    assert all(expect in (user.messages[-1].text or "") for user in users)


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_two_workers_serve_share_restart_and_stop(
    framework: str, emulator: Emulator, postgres_database: str
) -> None:
    database = Database(postgres_database)
    await ensure_schema(database)
    env = env_for(emulator, postgres_database, framework)
    async with supervisor(env) as bot:
        await bot.until(lambda: {n for (n,) in bot.matches(UP)} == {"1", "2"}, "two workers up")
        assert len(emulator.calls_to("setMyCommands")) == 3  # worker 1 alone announces
        await emulator.wait_until(lambda: emulator.webhook_url == env["WEBHOOK_URL"])
        await bot.until(lambda: "scheduler: this process leads" in bot.log, "a leader")

        # The outbox's pace is one for both: 25/s in all, where two paces would send 50/s.
        members = range(5001, 5101)
        strict_limits(emulator, rate=30, burst=10)  # Telegram's limit
        await members_on(emulator, database, members)
        broadcast = await queue_broadcast(
            SqlUnitOfWork(database), BroadcastContent("Hi"), Segment(), "admin", NOW
        )
        assert await until_settled(database, broadcast) == BroadcastProgress(100, sent=100)
        assert [sum(m.text == "Hi" for m in emulator.user(i).messages) for i in members] == [
            1
        ] * len(members)
        assert too_fast(emulator) == []
        emulator.limits(enabled=False)  # replies keep a pace per process (docs/deploy.md)

        await welcomed(emulator, range(101, 131), "/start", "Welcome")
        async with (
            aiohttp.ClientSession() as http,
            http.get(  # the API port is shared too
                f"http://127.0.0.1:{env['API_PORT']}/healthz"
            ) as answer,
        ):
            assert answer.status == 200

        killed = bot.pids()[2]
        os.kill(killed, signal.SIGKILL)
        await bot.until(
            lambda: (
                f"worker 2 (pid {killed}) was killed by SIGKILL; starting it "
                "again in 1 s" in bot.log
            ),
            "the kill noticed",
        )
        await bot.until(lambda: len(bot.matches(UP)) == 3, "worker 2 up again")
        assert bot.pids()[2] != killed
        await welcomed(emulator, range(101, 131), "/balance", "points")
        assert bot.log.count("scheduler: this process leads") <= 2  # one, or its successor

        workers = bot.pids().values()
        assert await bot.stopped(signal.SIGTERM) == 0, bot.log
    log = bot.log
    for number in (1, 2):
        assert f"worker {number} bot.cli: SIGTERM received: stopping" in log
        assert f"worker {number} bot.cli: stopped" in log
    assert "supervisor: every worker stopped" in log
    assert log.endswith("INFO bot.cli: stopped")
    assert "Traceback" not in log
    assert " ERROR " not in log
    assert all(gone(pid) for pid in workers)
    await database.dispose()


async def test_ctrl_c_stops_every_worker_in_order(
    emulator: Emulator, postgres_database: str
) -> None:
    async with supervisor(env_for(emulator, postgres_database, "aiogram")) as bot:
        await bot.until(lambda: len(bot.matches(UP)) == 2, "two workers up")
        assert await bot.stopped(signal.SIGINT) == 0, bot.log  # the terminal's Ctrl+C
    for number in (1, 2):  # the workers are in a process group of their own: told once
        assert bot.log.count(f"worker {number} bot.cli: SIGTERM received: stopping") == 1
    assert bot.log.endswith("INFO bot.cli: stopped")
    assert "Traceback" not in bot.log


async def test_workers_stop_when_their_supervisor_is_killed(
    emulator: Emulator, postgres_database: str
) -> None:
    async with supervisor(env_for(emulator, postgres_database, "aiogram")) as bot:
        await bot.until(lambda: len(bot.matches(UP)) == 2, "two workers up")
        workers = list(bot.pids().values())
        await bot.stopped(signal.SIGKILL)
        for _ in range(int(STOP_WITHIN * 10)):
            if all(gone(pid) for pid in workers):
                break
            await asyncio.sleep(0.1)
        assert all(gone(pid) for pid in workers)


async def test_a_worker_stopped_by_a_setting_stops_them_all(
    emulator: Emulator, postgres_database: str
) -> None:
    env = env_for(emulator, postgres_database, "aiogram", BOT_TOKEN="999:NOT-THIS-BOT")
    async with supervisor(env) as bot:
        assert await bot.ended() == 2
    assert "loyalty-bot: setting BOT_TOKEN: Telegram refused this token" in bot.log
    assert "stopped on a setting to fix (its line is above): stopping them all" in bot.log
    assert "starting it again" not in bot.log


async def test_a_port_taken_stops_the_supervisor_in_one_line(
    emulator: Emulator, postgres_database: str
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = env_for(
            emulator,
            postgres_database,
            "aiogram",
            WEBHOOK_PORT=str(port),
            WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
        )
        async with supervisor(env) as bot:
            assert await bot.ended() == 2
    assert bot.lines[-1] == (
        f"loyalty-bot: setting WEBHOOK_PORT: cannot listen on "
        f"127.0.0.1:{port} (Address already in use)"
    )
    assert "started (pid" not in bot.log


@pytest.mark.parametrize(
    ("database_url", "webhook", "reason"),
    [
        ("sqlite:///loyalty.db", True, "--workers 2 needs PostgreSQL: SQLite serves one process"),
        (
            "postgresql://nobody@127.0.0.1:1/none",
            False,
            "--workers 2 needs a webhook: with long polling one process takes the updates",
        ),
    ],
)
def test_sqlite_or_polling_with_workers_is_refused_in_one_line(
    database_url: str,
    webhook: bool,
    reason: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    if webhook:
        monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.com/hook")
        monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    assert main(["run", "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"loyalty-bot: {reason}")
    assert len(err.splitlines()) == 1
