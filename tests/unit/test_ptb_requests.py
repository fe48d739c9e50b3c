"""The PTB adapter keeps at most REQUESTS_AT_ONCE Bot API calls in flight; the rest wait.
Its calls, long polling too, go over aiohttp: parameters as a form, files as multipart
parts, a silent server as TimedOut and a refused connection as NetworkError (which the
adapter then translates)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.conversation.actions import Action, Send
from bot.telegram.ptb_app import REQUESTS_AT_ONCE, AiohttpRequest, PtbBot, PtbReplies


class SlowBot:
    """A Bot whose sendMessage answers only when released, counting the calls in flight."""

    def __init__(self) -> None:
        self.in_flight = self.most = 0
        self.release = asyncio.Event()

    async def send_message(self, chat_id: int, text: str, **_: Any) -> SimpleNamespace:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await self.release.wait()
        self.in_flight -= 1
        return SimpleNamespace(message_id=chat_id)


async def test_calls_past_the_limit_wait_for_a_turn() -> None:
    bot = SlowBot()
    replies = PtbReplies(bot)  # type: ignore[arg-type]
    sends = [asyncio.create_task(replies.send(Send(chat, "hi"))) for chat in range(3 * 8)]
    for _ in range(10):
        await asyncio.sleep(0)
    assert bot.most == bot.in_flight == REQUESTS_AT_ONCE
    bot.release.set()
    assert await asyncio.gather(*sends) == list(range(3 * 8))
    assert bot.most == REQUESTS_AT_ONCE


@asynccontextmanager
async def echo_server() -> AsyncIterator[str]:
    """A server answering each POST with what it received: form fields and file parts."""

    async def echo(request: web.Request) -> web.Response:
        form = await request.post()
        fields = {
            name: [value.filename, value.file.read().hex()]
            if isinstance(value, web.FileField)
            else value
            for name, value in form.items()
        }
        return web.json_response({"ok": True, "result": fields})

    app = web.Application()
    app.router.add_post("/{method}", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_parameters_and_files_reach_the_server() -> None:
    request = AiohttpRequest(REQUESTS_AT_ONCE)
    await request.initialize()
    try:
        async with echo_server() as url:
            text = await request.post(
                f"{url}/sendMessage",
                RequestData(
                    [
                        RequestParameter.from_input("chat_id", 7),
                        RequestParameter.from_input("text", "hé <b>"),
                    ]
                ),
            )
            photo = RequestParameter.from_input("photo", InputFile(b"\x89PNG", filename="card.png"))
            sent = await request.post(
                f"{url}/sendPhoto", RequestData([RequestParameter.from_input("chat_id", 7), photo])
            )
    finally:
        await request.shutdown()
    assert text == {"chat_id": "7", "text": "hé <b>"}
    assert sent == {"chat_id": "7", "photo": ["card.png", b"\x89PNG".hex()]}


async def test_a_silent_server_times_out_and_a_closed_port_is_network_trouble() -> None:
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed = free.getsockname()[1]
    request = AiohttpRequest(REQUESTS_AT_ONCE)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"http://127.0.0.1:{port}/getMe", read_timeout=0.2)
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{closed}/getMe")
    finally:
        await request.shutdown()
        silent.close()


async def test_long_polling_goes_over_aiohttp_too_so_no_httpx_client_is_made() -> None:
    async def handle(_event: object) -> list[Action]:
        return []

    bot = PtbBot("123:ABC", "http://127.0.0.1:9", handle)
    try:
        polls, calls = bot.app.bot._request  # PTB's (getUpdates, every other call) pair
        assert isinstance(polls, AiohttpRequest)
        assert isinstance(calls, AiohttpRequest)
        assert polls is not calls  # a long poll never holds up a reply
    finally:
        await bot.close()
