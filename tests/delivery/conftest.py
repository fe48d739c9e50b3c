"""Fixtures for delivery tests: the emulator the e2e tests use."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.emulator import Emulator
from tests.e2e.conftest import BOT, TOKEN


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A fresh emulator serving the e2e tests' bot."""
    async with Emulator(token=TOKEN, bot_username=BOT) as emu:
        yield emu
