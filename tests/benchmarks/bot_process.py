"""One bot in its own process, for `bot_bench`: the loyalty bot or a bare echo bot.

    python -m tests.benchmarks.bot_process loyalty|echo aiogram|ptb <base_url> <db_url>

The loyalty bot is `run_bot`, as `loyalty-bot run` starts it (its replies keep no pace within
Telegram's limits, which the emulator does not enforce here), on the database at
<db_url>; the echo bot ignores <db_url> and imports only its own framework. SIGTERM stops
the bot cleanly. With BOT_BENCH_PROFILE=<file> in the environment, SIGUSR1 starts cProfile
(on the event loop's thread) and the profile is written to <file> when the process ends.
"""

from __future__ import annotations

import asyncio
import cProfile
import importlib
import os
import signal
import sys
from contextlib import suppress
from functools import partial
from typing import Literal, cast

TOKEN = "123456:BENCH-TOKEN"
KINDS = ("loyalty", "echo")
FRAMEWORKS = ("aiogram", "ptb")


def lift_telegram_limits(framework: str) -> None:
    """Replies go without waiting for turns within Telegram's limits (`bot.telegram.pace`):
    the benchmark measures the bot's own speed, like the echo bot's, and its emulator
    enforces no limits."""
    from bot.telegram.pace import Pace

    adapter = importlib.import_module(f"bot.telegram.{framework}_app")
    adapter.Pace = partial(Pace, rate=1e9, burst=10**6, chat_rate=1e9, chat_burst=10**6)


async def run(kind: str, framework: str, base_url: str, db_url: str) -> None:
    """Run one bot until cancelled; only the modules that bot needs are imported."""
    if kind == "echo":
        from tests.benchmarks.bot_echo import aiogram_echo, ptb_echo

        await (aiogram_echo if framework == "aiogram" else ptb_echo)(TOKEN, base_url)
        return
    from pydantic import SecretStr

    from bot.app import run_bot
    from bot.settings import Settings

    lift_telegram_limits(framework)
    settings = Settings(
        database_url=db_url,
        bot_token=SecretStr(TOKEN),
        telegram_api_base=base_url,
        bot_framework=cast(Literal["aiogram", "ptb"], framework),
        loyalty_program=None,
        webhook_url=None,
    )
    await run_bot(settings)


async def main(argv: list[str], profiler: cProfile.Profile | None) -> None:
    """The bot as a task that SIGTERM cancels (and SIGUSR1 starts profiling, if asked)."""
    task = asyncio.ensure_future(run(*argv))
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    if profiler is not None:
        loop.add_signal_handler(signal.SIGUSR1, profiler.enable)
    with suppress(asyncio.CancelledError):
        await task


def entry(argv: list[str]) -> None:
    """Check the arguments, run, and write the profile if one was asked for."""
    if len(argv) != 4 or argv[0] not in KINDS or argv[1] not in FRAMEWORKS:
        sys.exit(__doc__)
    path = os.environ.get("BOT_BENCH_PROFILE")
    profiler = cProfile.Profile() if path else None
    try:
        asyncio.run(main(argv, profiler))
    finally:
        if profiler is not None and path:
            profiler.disable()
            profiler.dump_stats(path)


if __name__ == "__main__":
    entry(sys.argv[1:])
