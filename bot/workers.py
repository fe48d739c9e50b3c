"""`loyalty-bot run --workers N`: N processes serving one bot from one PostgreSQL database.

This process, the supervisor, holds the webhook's port (and the API's) and starts N
workers, each a `loyalty-bot run` listening on the same ports with SO_REUSEPORT: the kernel
spreads the new connections over them evenly, whichever is busy (one socket shared by all
would go to whichever woke first, and keep-alive connections stay where they went).
What has to be one across workers is already in the database: conversation steps, the
outbox and its claims, the outbox's pace, the scheduler's leader; each worker takes 1/N of the
bot's rate for its replies (bot.telegram.pace). Worker 1 tells Telegram
about the bot (menus, webhook).

A worker that ends is started again after a pause (1 s, doubling up to a minute; 1 s again
once it had run a minute), except one that ends with exit code 2, a setting to fix, which
stops them all. SIGTERM or Ctrl+C stop every worker its usual orderly way, then the
supervisor. A worker whose supervisor is gone, even killed, stops by itself: its standard
input, a pipe from the supervisor, closes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from bot.app import Listeners, address, bound, run_bot
from bot.logs import LOG_FORMAT
from bot.settings import Settings
from bot.telegram.pace import SHARED_BY
from storage.database import is_sqlite

log = logging.getLogger(__name__)

WORKER = "LOYALTY_BOT_WORKER"  # the worker's number, set by the supervisor
FIRST_PAUSE = 1.0  # seconds before a worker that ended is started again
LONGEST_PAUSE = 60.0  # the pause doubles up to this while a worker keeps ending
STEADY = 60.0  # seconds a worker ran after which its next pause is FIRST_PAUSE again
STDIN = 0


class WorkerRefused(Exception):
    """A worker ended with exit code 2: a setting to fix, which a restart would not fix."""


def workers_problem(settings: Settings, count: int) -> str | None:
    """Why `count` workers cannot serve with these settings (one line), or None."""
    if count == 1:
        return None
    if not hasattr(socket, "SO_REUSEPORT"):
        return f"--workers {count} needs SO_REUSEPORT (Linux), which this system lacks"
    if is_sqlite(settings.database_url):
        return (
            f"--workers {count} needs PostgreSQL: SQLite serves one process; set "
            "DATABASE_URL to a PostgreSQL database, or run one worker"
        )
    if not settings.webhook_url:
        return (
            f"--workers {count} needs a webhook: with long polling one process takes "
            "the updates; set WEBHOOK_URL and WEBHOOK_SECRET, or run one worker"
        )
    return None


def this_worker() -> int | None:
    """This process's number among the supervisor's workers, or None when run alone."""
    number = os.environ.get(WORKER)
    return int(number) if number else None


def label_log_lines(number: int) -> None:
    """Every log line of this process says which worker wrote it."""
    formatter = logging.Formatter(LOG_FORMAT.replace("%(name)s", f"worker {number} %(name)s"))
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)


async def serve_as_worker(settings: Settings, number: int) -> None:
    """The bot on the shared ports until cancelled, or until the supervisor is gone (this
    process's standard input closed); worker 1 announces it to Telegram."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()

    def supervisor_gone() -> None:
        if not os.read(STDIN, 64):
            loop.remove_reader(STDIN)
            log.warning("the supervisor is gone: stopping")
            task.cancel()

    loop.add_reader(STDIN, supervisor_gone)
    try:
        with bound(settings, "shared") as listeners:
            await run_bot(settings, listeners, announce=number == 1)
    finally:
        loop.remove_reader(STDIN)


def worker_command() -> list[str]:
    """How the supervisor starts a worker: this program's `run`, in this interpreter, with
    no module of the working directory in its way (-P; `worker_env` says where to look)."""
    return [sys.executable, "-P", "-m", "bot.cli", "run"]


def worker_env(number: int, count: int) -> dict[str, str]:
    """The supervisor's environment, plus the worker's number, how many workers share the
    bot's rate, and the folder this code was imported from first on the module path: the
    workers run this same code."""
    code = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [code, os.environ.get("PYTHONPATH")]))
    return {**os.environ, WORKER: str(number), SHARED_BY: str(count), "PYTHONPATH": path}


async def supervise(settings: Settings, count: int, command: Sequence[str] | None = None) -> None:
    """Hold the ports, then keep `count` workers running until cancelled (SIGTERM, Ctrl+C);
    WorkerRefused when one ended on a setting to fix. `command` starts a worker (the
    settings are checked first: `workers_problem`)."""
    with bound(settings, "held") as ports:
        log.info("supervisor: %d workers on %s", count, where(ports))
        await Supervisor(command or worker_command()).run(count)


def where(ports: Listeners) -> str:
    """The shared ports, for the supervisor's start-up line."""
    api, webhook = ports
    served = [
        f"the webhook at {address(webhook)}" if webhook else "",
        f"the merchant API at {address(api)}" if api else "",
    ]
    return " and ".join(filter(None, served))


class Supervisor:
    """Starts the workers, starts again each one that ends, and stops them all."""

    def __init__(self, command: Sequence[str]) -> None:
        self.command = list(command)
        self.running: dict[int, asyncio.subprocess.Process] = {}
        self.count = 1

    async def run(self, count: int) -> None:
        """Workers 1..count until cancelled, or WorkerRefused; then stop every one."""
        self.count = count
        keepers = [
            asyncio.create_task(self.keep(number), name=f"worker {number}")
            for number in range(1, count + 1)
        ]
        try:
            await asyncio.gather(*keepers)  # ends only by WorkerRefused or a cancel
        finally:
            for keeper in keepers:
                keeper.cancel()
            await asyncio.gather(*keepers, return_exceptions=True)
            await self.stop_all()

    async def keep(self, number: int) -> None:
        """Worker `number`, started again after a pause each time it ends."""
        pause = FIRST_PAUSE
        while True:
            started = time.monotonic()
            process = await self.start(number)
            code = await process.wait()
            del self.running[number]
            if code == 2:
                raise WorkerRefused(
                    f"worker {number} (pid {process.pid}) stopped on a "
                    "setting to fix (its line is above): stopping them all"
                )
            if time.monotonic() - started >= STEADY:
                pause = FIRST_PAUSE
            log.warning(
                "supervisor: worker %d (pid %d) %s; starting it again in %.0f s",
                number,
                process.pid,
                ended(code),
                pause,
            )
            await asyncio.sleep(pause)
            pause = min(2 * pause, LONGEST_PAUSE)

    async def start(self, number: int) -> asyncio.subprocess.Process:
        """Worker `number`, with a pipe for its standard input that closes if this ends."""
        process = await asyncio.create_subprocess_exec(
            *self.command,
            env=worker_env(number, self.count),
            stdin=asyncio.subprocess.PIPE,
            process_group=0,
        )  # in a group of its own: the terminal's Ctrl+C reaches only us
        self.running[number] = process
        log.info("supervisor: worker %d started (pid %d)", number, process.pid)
        return process

    async def stop_all(self) -> None:
        """SIGTERM to every worker, then wait until each has stopped its orderly way."""
        processes = list(self.running.values())
        for process in processes:
            with suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in processes:
            await process.wait()
        log.info("supervisor: every worker stopped")


def ended(code: int) -> str:
    """How a worker ended, from its exit code (negative: the signal that killed it)."""
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"
