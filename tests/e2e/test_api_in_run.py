"""`loyalty-bot run` serves the merchant API beside the bot: a till's purchase reaches the chat."""

from __future__ import annotations

from pathlib import Path

import httpx

from bot.emulator import Emulator
from domain.services.api_tokens import create_token
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.e2e.conftest import bot_settings
from tests.e2e.test_webhook_and_restarts import free_port, running


async def test_a_purchase_over_http_is_notified_in_chat(emulator: Emulator, tmp_path: Path):
    port = free_port()
    settings = bot_settings("aiogram", emulator, tmp_path, api_port=port)
    ann = emulator.user(1001, "Ann", language_code="en")
    async with running(settings, emulator):
        await ann.send("/start")
        await ann.wait_for_message()
        await ann.send("/card")
        card = await ann.wait_for_message()
        code = (card.caption or "").split("Member code: ")[1].split()[0]
        database = Database(settings.database_url)
        secret, _ = await create_token(
            SqlUnitOfWork(database), "till-1", frozenset({"purchases"}), NOW
        )
        await database.dispose()
        body = {
            "receipt_id": "T-1",
            "member": {"member_code": code},
            "items": [{"sku": "LATTE", "category": "coffee", "quantity": 2, "unit_price": "4.50"}],
        }
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            answer = await http.post(
                "/api/v1/purchases", json=body, headers={"Authorization": f"Bearer {secret}"}
            )
        assert answer.status_code == 201
        assert answer.json()["points_awarded"] == 14
        note = await ann.wait_for_message(timeout=10)
        assert "Purchase T-1: +14 points" in note.text
