"""setWebhook / deleteWebhook / getWebhookInfo and delivery to a real local receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from bot.emulator import Emulator
from tests.emulator.conftest import Api


@dataclass
class Receiver:
    """A webhook endpoint that records what arrives and answers scripted statuses."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    received: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        status = self.statuses.pop(0) if self.statuses else 200
        if self.replies and status == 200:
            return web.json_response(self.replies.pop(0))
        return web.Response(status=status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield hook
    await runner.cleanup()


async def test_delivery_with_secret(api: Api, emu: Emulator, receiver: Receiver) -> None:
    status, body = await api(
        "setWebhook", url=receiver.url, secret_token="s3cr3t-Token_1", max_connections=5
    )
    assert (status, body["result"]) == (200, True)
    assert emu.webhook_url == receiver.url
    ann = emu.user(1001, "Ann")
    await ann.send("one")
    await ann.send("two")
    await emu.wait_until(lambda: len(receiver.received) == 2)
    (first, secret), (second, _) = receiver.received
    assert secret == "s3cr3t-Token_1"
    assert [first["message"]["text"], second["message"]["text"]] == ["one", "two"]
    assert second["update_id"] == first["update_id"] + 1
    await emu.wait_until(lambda: len(emu.webhook_deliveries) == 2)
    assert all(d.ok and d.status == 200 and d.secret_sent for d in emu.webhook_deliveries)
    _, info = await api("getWebhookInfo")
    assert info["result"] == {
        "url": receiver.url,
        "has_custom_certificate": False,
        "pending_update_count": 0,
        "max_connections": 5,
    }


async def test_delivery_without_secret(api: Api, emu: Emulator, receiver: Receiver) -> None:
    await api("setWebhook", url=receiver.url)
    await emu.user(1001, "Ann").send("hi")
    await emu.wait_until(lambda: receiver.received)
    assert receiver.received[0][1] is None
    assert not emu.webhook_deliveries[0].secret_sent


async def test_failed_delivery_is_retried(api: Api, emu: Emulator, receiver: Receiver) -> None:
    receiver.statuses = [500, 502]
    await api("setWebhook", url=receiver.url)
    await emu.user(1001, "Ann").send("hi")
    await emu.wait_until(lambda: len(emu.webhook_deliveries) == 3)
    attempts = [(d.attempt, d.status, d.ok) for d in emu.webhook_deliveries]
    assert attempts == [(1, 500, False), (2, 502, False), (3, 200, True)]
    assert len({d.update_id for d in emu.webhook_deliveries}) == 1
    _, info = await api("getWebhookInfo")
    assert info["result"]["last_error_message"] == (
        "Wrong response from the webhook: 502 Bad Gateway"
    )
    assert isinstance(info["result"]["last_error_date"], int)


async def test_unreachable_webhook_gives_up_after_the_attempts(api: Api, emu: Emulator) -> None:
    await api("setWebhook", url="http://127.0.0.1:9/hook")
    await emu.user(1001, "Ann").send("hi")
    await emu.wait_until(lambda: len(emu.webhook_deliveries) == 3)
    assert all(d.status is None and not d.ok for d in emu.webhook_deliveries)
    await emu.wait_until(lambda: emu.pending_updates == 0)


async def test_reply_with_a_method_is_executed(api: Api, emu: Emulator, receiver: Receiver) -> None:
    ann = emu.user(1001, "Ann")
    receiver.replies = [
        {"method": "sendMessage", "chat_id": 1001, "text": "<b>Hi!</b>", "parse_mode": "HTML"}
    ]
    await api("setWebhook", url=receiver.url)
    await ann.start()
    reply = await ann.wait_for_message()
    assert (reply.text, reply.entities) == ("Hi!", [{"type": "bold", "offset": 0, "length": 3}])


async def test_pending_updates_are_delivered_or_dropped(
    api: Api, emu: Emulator, receiver: Receiver
) -> None:
    ann = emu.user(1001, "Ann")
    await ann.send("queued before the webhook")
    _, info = await api("getWebhookInfo")
    assert info["result"] == {"url": "", "has_custom_certificate": False, "pending_update_count": 1}
    await api("setWebhook", url=receiver.url)
    await emu.wait_until(lambda: receiver.received)
    await api("deleteWebhook")
    assert emu.webhook_url is None
    await ann.send("dropped later")
    assert emu.pending_updates == 1
    await api(
        "setWebhook",
        url=receiver.url,
        drop_pending_updates=True,
        allowed_updates=["callback_query"],
    )
    await ann.send("filtered out")
    _, info = await api("getWebhookInfo")
    assert info["result"]["allowed_updates"] == ["callback_query"]
    assert emu.pending_updates == 0
    assert [u["message"]["text"] for u, _ in receiver.received] == ["queued before the webhook"]


@pytest.mark.parametrize(
    ("params", "description"),
    [
        (
            {"url": "ftp://example.com/hook"},
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
        ),
        (
            {"url": "https://example.com/hook", "secret_token": "has spaces"},
            "Bad Request: secret token contains unallowed characters",
        ),
    ],
)
async def test_set_webhook_refusals(api: Api, params: dict[str, str], description: str) -> None:
    status, body = await api("setWebhook", **params)
    assert (status, body["description"]) == (400, description)


async def test_empty_url_deletes_the_webhook(api: Api, emu: Emulator) -> None:
    await api("setWebhook", url="https://example.com/hook")
    assert emu.webhook_url == "https://example.com/hook"
    await api("setWebhook", url="")
    assert emu.webhook_url is None
