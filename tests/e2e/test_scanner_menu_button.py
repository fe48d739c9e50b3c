"""With WEB_URL set, each staff member's chat gets its own menu button to the cashier
scanner (setChatMenuButton for that chat), on each framework; a cashier removed gets the
default button back."""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress

import pytest

from bot.app import run_bot
from tests.e2e.conftest import bot_settings, started
from tests.e2e.test_webhook_and_restarts import free_port

WEB_URL = "https://shop.example"
ADMIN = 7001


def menu_buttons(emulator) -> dict[int | None, dict[str, object]]:
    """Each setChatMenuButton call's button by chat (None: the default for every chat)."""
    found: dict[int | None, dict[str, object]] = {}
    for call in emulator.calls_to("setChatMenuButton"):
        button = call.params.get("menu_button")
        button = json.loads(button) if isinstance(button, str) else button
        chat = call.params.get("chat_id")
        found[int(chat) if chat is not None else None] = button
    return found


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_staff_chats_open_the_scanner(framework, emulator, tmp_path):
    settings = bot_settings(
        framework, emulator, tmp_path, web_url=WEB_URL, api_port=free_port(), admin_ids=str(ADMIN)
    )
    task = asyncio.create_task(run_bot(settings))
    try:
        await started(emulator)
        await emulator.wait_until(lambda: ADMIN in menu_buttons(emulator), timeout=15)
        buttons = menu_buttons(emulator)
        assert buttons[ADMIN] == {
            "type": "web_app",
            "text": "📷 Scanner",
            "web_app": {"url": f"{WEB_URL}/scanner/"},
        }
        assert buttons[None]["web_app"] == {"url": f"{WEB_URL}/app/"}  # everyone else
        admin = emulator.user(ADMIN, "Alma")
        await admin.send("/staff add")
        invite = await admin.wait_for_message(timeout=15)
        payload = invite.text.split("start=")[1].split()[0]
        carl = emulator.user(9002, "Carl", language_code="es")
        await carl.send(f"/start {payload}")
        await emulator.wait_until(lambda: 9002 in menu_buttons(emulator), timeout=15)
        assert menu_buttons(emulator)[9002]["text"] == "📷 Escáner"
        await admin.send("/staff remove 9002")
        await emulator.wait_until(
            lambda: menu_buttons(emulator)[9002] == {"type": "default"}, timeout=15
        )
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
