"""`loyalty-bot run` end to end: an admin's /dashboard link (from the chat) signs in to the
dashboard served on the API's port, once; the cookie is Secure because WEB_URL is https."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.emulator import Emulator
from tests.e2e.conftest import bot_settings
from tests.e2e.test_webhook_and_restarts import free_port, running

ADMIN = 7001
WEB_URL = "https://shop.example"


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_the_chat_link_signs_in_to_the_dashboard_once(
    framework: str, emulator: Emulator, tmp_path: Path
):
    port = free_port()
    settings = bot_settings(
        framework, emulator, tmp_path, api_port=port, web_url=WEB_URL, admin_ids=str(ADMIN)
    )
    admin = emulator.user(ADMIN, "Alma", language_code="en")
    async with running(settings, emulator):
        await admin.send("/dashboard")
        reply = await admin.wait_for_message(timeout=15)
        [[button]] = reply.reply_markup["inline_keyboard"]
        assert button["url"].startswith(f"{WEB_URL}/dashboard/login/")
        path = button["url"].removeprefix(WEB_URL)  # the proxy's address is this port here
        token = path.rsplit("/", 1)[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            page = await http.get(path)
            assert page.status_code == 200
            assert f'value="{token}"' in page.text
            signed_in = await http.post("/dashboard/login", data={"token": token})
            assert signed_in.status_code == 303
            cookie = signed_in.headers["set-cookie"].lower()
            assert "httponly" in cookie
            assert "samesite=strict" in cookie
            assert "; secure" in cookie
            again = await http.post("/dashboard/login", data={"token": token})
            assert again.status_code == 403
