"""The real bot (`run_bot`, as `loyalty-bot run` starts it) against the local Bot API emulator."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import pytest

from bot.app import run_bot
from bot.emulator import Emulator
from bot.settings import Settings
from domain.program_file import default_program_path

TOKEN = "123456:E2E-TOKEN"
BOT = "northwind_loyalty_bot"
ADMIN_ID = 7001  # the admin the `shop` bot is configured with

# A suite started in the background by a script (`pytest &`) inherits SIGINT ignored, and so
# would every bot it starts: Python then never turns Ctrl+C into KeyboardInterrupt, and the
# tests that stop a bot with Ctrl+C would wait for ever. Start them as from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def bot_settings(framework: str, emulator: Emulator, tmp_path: Path, **extra: object) -> Settings:
    """Settings for a bot on the emulator with its own SQLite file."""
    options: dict[str, object] = {"api_port": 0, "scheduler": False, **extra}
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/e2e.db",
        bot_token=TOKEN,
        telegram_api_base=emulator.base_url,
        bot_framework=framework,
        **options,
    )


def program_with(tmp_path: Path, tables: str) -> Path:
    """The bundled program with `tables` (TOML) added, as tmp_path/program.toml."""
    path = tmp_path / "program.toml"
    path.write_text(default_program_path().read_text() + tables)
    return path


@asynccontextmanager
async def bot_on(
    framework: str, emulator: Emulator, tmp_path: Path, tables: str, **extra: object
) -> AsyncIterator[Settings]:
    """The bot with the bundled program plus `tables`, running until the block ends."""
    settings = bot_settings(
        framework, emulator, tmp_path, loyalty_program=program_with(tmp_path, tables), **extra
    )
    task = asyncio.create_task(run_bot(settings))
    await started(emulator)
    try:
        yield settings
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def started(emulator: Emulator) -> None:
    """Wait until the bot has set its menus: it is up, and updates from now on queue for it."""
    menus = 3  # the default menu, English, Spanish
    await emulator.wait_until(lambda: len(emulator.calls_to("setMyCommands")) >= menus, timeout=15)


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A fresh emulator."""
    async with Emulator(token=TOKEN, bot_username=BOT) as emu:
        yield emu


@pytest.fixture(params=["aiogram", "ptb"])
async def telegram(
    request: pytest.FixtureRequest, emulator: Emulator, tmp_path: Path
) -> AsyncIterator[Emulator]:
    """The emulator with the loyalty bot polling it, on each framework."""
    task = asyncio.create_task(run_bot(bot_settings(request.param, emulator, tmp_path)))
    await started(emulator)
    yield emulator
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


@pytest.fixture(params=["aiogram", "ptb"])
async def shop(
    request: pytest.FixtureRequest, emulator: Emulator, tmp_path: Path
) -> AsyncIterator[Emulator]:
    """The bot with one admin configured through ADMIN_IDS."""
    settings = bot_settings(request.param, emulator, tmp_path, admin_ids=str(ADMIN_ID))
    task = asyncio.create_task(run_bot(settings))
    await started(emulator)
    yield emulator
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
