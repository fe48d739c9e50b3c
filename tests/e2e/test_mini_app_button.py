"""With WEB_URL set, the bot's menu button and /card's button open the members' Mini App,
on each framework (the real bot against the emulator)."""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress

import pytest

from bot.app import run_bot
from tests.e2e.conftest import bot_settings, started
from tests.e2e.test_webhook_and_restarts import free_port

WEB_URL = "https://shop.example"


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_menu_button_and_card_open_the_mini_app(framework, emulator, tmp_path):
    settings = bot_settings(framework, emulator, tmp_path, web_url=WEB_URL, api_port=free_port())
    task = asyncio.create_task(run_bot(settings))
    try:
        await started(emulator)
        await emulator.wait_until(lambda: emulator.calls_to("setChatMenuButton"), timeout=15)
        [call] = emulator.calls_to("setChatMenuButton")
        button = call.params["menu_button"]
        button = json.loads(button) if isinstance(button, str) else button
        assert button == {
            "type": "web_app",
            "text": "💳 My card",
            "web_app": {"url": f"{WEB_URL}/app/"},
        }
        ann = emulator.user(1001, "Ann", language_code="es")
        await ann.send("/start")
        await ann.wait_for_message(timeout=15)
        # the default button speaks the program's first language: hers is set in Spanish
        await emulator.wait_until(lambda: len(emulator.calls_to("setChatMenuButton")) == 2, 15)
        own = emulator.calls_to("setChatMenuButton")[1].params
        assert str(own["chat_id"]) == "1001"
        button = own["menu_button"]
        button = json.loads(button) if isinstance(button, str) else button
        assert button == {
            "type": "web_app",
            "text": "💳 Mi tarjeta",
            "web_app": {"url": f"{WEB_URL}/app/"},
        }
        await ann.send("/card")
        card = await ann.wait_for_message(timeout=15)
        while card.photo is None:  # the welcome may come in more than one message
            card = await ann.wait_for_message(timeout=15)
        [[open_app]] = card.reply_markup["inline_keyboard"]
        assert open_app == {"text": "💳 Mi tarjeta", "web_app": {"url": f"{WEB_URL}/app/"}}
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def test_no_menu_button_without_web_url(telegram):
    assert telegram.calls_to("setChatMenuButton") == []
