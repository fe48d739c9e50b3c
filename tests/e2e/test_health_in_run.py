"""`loyalty-bot run` feeds `GET /healthz` with the time it last handled a Telegram update."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from bot.emulator import Emulator
from tests.e2e.conftest import bot_settings
from tests.e2e.test_webhook_and_restarts import free_port, running


async def first_answer(http: httpx.AsyncClient, path: str) -> httpx.Response:
    """GET `path` once the API listens (it starts just after the bot's menus are set)."""
    for _ in range(100):
        try:
            return await http.get(path)
        except httpx.ConnectError:
            await asyncio.sleep(0.05)
    raise TimeoutError("the API never listened")


async def test_healthz_tells_when_the_bot_last_handled_an_update(
    emulator: Emulator, tmp_path: Path
):
    port = free_port()
    settings = bot_settings("ptb", emulator, tmp_path, api_port=port)
    async with (
        running(settings, emulator),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
    ):
        before = (await first_answer(http, "/healthz")).json()
        ann = emulator.user(1001, "Ann", language_code="en")
        await ann.send("/start")
        await ann.wait_for_message()
        after = (await http.get("/healthz")).json()
    assert before["status"] == "ok"
    assert before["bot"] == {"last_update_at": None, "seconds_since_last_update": None}
    assert after["bot"]["last_update_at"] is not None
    assert 0 <= after["bot"]["seconds_since_last_update"] < 60
