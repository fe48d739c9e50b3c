"""Fixtures for the emulator's own tests: a running emulator and a raw HTTP client."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import aiohttp
import pytest

from bot.emulator import Emulator

TOKEN = "123456:TEST-token_x"
Api = Callable[..., Coroutine[Any, Any, tuple[int, dict[str, Any]]]]


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG of the given size."""
    rows = b"".join(b"\x00" + b"\x7f" * (width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """A running emulator for a bot called northwind_loyalty_bot."""
    async with Emulator(TOKEN, bot_username="northwind_loyalty_bot") as emulator:
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(emu: Emulator, http: aiohttp.ClientSession) -> Api:
    """Call a method with a JSON body: (HTTP status, decoded answer)."""

    async def call(method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        async with http.post(f"{emu.api_url}/{method}", json=params) as response:
            return response.status, await response.json()

    return call


@pytest.fixture
def form_api(emu: Emulator, http: aiohttp.ClientSession) -> Api:
    """Call a method with a urlencoded form of strings, as the frameworks do."""

    async def call(method: str, **params: str) -> tuple[int, dict[str, Any]]:
        async with http.post(f"{emu.api_url}/{method}", data=params) as response:
            return response.status, await response.json()

    return call
