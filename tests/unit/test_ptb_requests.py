"""The PTB adapter keeps at most REQUESTS_AT_ONCE Bot API calls in flight; the rest wait.
Its calls, long polling too, go over its own keep-alive connections (bot.telegram.ptb_http):
parameters as a form, files as multipart parts, connections reused and replaced when the
server closed them, a silent server as TimedOut and a refused connection as NetworkError
(which the adapter then translates)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.conversation.actions import Action, Send
from bot.telegram.ptb_app import REQUESTS_AT_ONCE, PtbBot, PtbReplies
from bot.telegram.ptb_http import PooledRequest


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
async def echo_server(peers: set[object] | None = None) -> AsyncIterator[str]:
    """A server answering each POST with what it received: form fields and file parts;
    the client's address of each request goes into `peers`."""

    async def echo(request: web.Request) -> web.Response:
        if peers is not None and request.transport is not None:
            peers.add(request.transport.get_extra_info("peername"))
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
    request = PooledRequest(REQUESTS_AT_ONCE)
    try:
        async with echo_server() as url:
            text = await request.post(
                f"{url}/sendMessage",
                RequestData(
                    [
                        RequestParameter.from_input("chat_id", 7),
                        RequestParameter.from_input("text", "hé <b> & ='\"\r\n"),
                    ]
                ),
            )
            photo = RequestParameter.from_input(
                "photo", InputFile(b"\x89PNG\r\n--x--", filename='tarjeta "ñ".png')
            )
            sent = await request.post(
                f"{url}/sendPhoto", RequestData([RequestParameter.from_input("chat_id", 7), photo])
            )
    finally:
        await request.shutdown()
    assert text == {"chat_id": "7", "text": "hé <b> & ='\"\r\n"}
    assert sent == {
        "chat_id": "7",
        "photo": ["tarjeta %22ñ%22.png", b"\x89PNG\r\n--x--".hex()],
    }  # a quote in a filename percent-encoded, as browsers (and httpx) send it


async def test_calls_reuse_their_connections_and_open_at_most_one_each() -> None:
    peers: set[object] = set()
    request = PooledRequest(3)
    data = RequestData([RequestParameter.from_input("chat_id", 7)])
    try:
        async with echo_server(peers) as url:
            for _ in range(5):
                await request.post(f"{url}/getMe", data)
            assert len(peers) == 1  # one after the other: one connection, kept alive
            await asyncio.gather(*(request.post(f"{url}/getMe", data) for _ in range(12)))
            assert len(peers) <= 3  # at most one connection per call in flight
    finally:
        await request.shutdown()


@asynccontextmanager
async def raw_server(answers: list[bytes]) -> AsyncIterator[tuple[str, list[int]]]:
    """A server that reads one request per connection, writes the next of `answers`
    verbatim and closes the connection; yields its URL and the requests' body sizes."""
    bodies: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        bodies.append(len(await reader.readexactly(length)))
        writer.write(answers[len(bodies) - 1])
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", bodies
    finally:
        server.close()


async def test_chunked_answers_and_connections_the_server_closed() -> None:
    ok = b'{"ok":true,"result":{"id":1}}'
    chunked = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n%s\r\n" % (10, ok[:10])
        + b"%x\r\n%s\r\n0\r\n\r\n" % (len(ok) - 10, ok[10:])
    )
    kept = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(ok), ok)
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (
        len(ok),
        ok,
    )
    request = PooledRequest(REQUESTS_AT_ONCE)
    data = RequestData([RequestParameter.from_input("chat_id", 7)])
    try:
        async with raw_server([chunked, kept, closing]) as (url, bodies):
            for _ in range(3):  # each answer's connection closed by the server after it
                assert await request.post(f"{url}/getMe", data) == {"id": 1}
                await asyncio.sleep(0.05)  # the close reaches the client before its next call
    finally:
        await request.shutdown()
    assert bodies == [len("chat_id=7")] * 3


async def test_a_silent_server_times_out_and_a_closed_port_is_network_trouble() -> None:
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed = free.getsockname()[1]
    request = PooledRequest(REQUESTS_AT_ONCE)
    try:
        with pytest.raises(TimedOut):
            await request.post(f"http://127.0.0.1:{port}/getMe", read_timeout=0.2)
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{closed}/getMe")
    finally:
        await request.shutdown()
        silent.close()


async def test_a_broken_answer_is_network_trouble_and_its_connection_is_dropped() -> None:
    request = PooledRequest(REQUESTS_AT_ONCE)
    ok = b'{"ok":true,"result":true}'
    answers = [b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nshort", b"nonsense\r\n\r\n"]
    answers.append(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(ok), ok))
    try:
        async with raw_server(answers) as (url, _bodies):
            for _ in range(2):
                with pytest.raises(NetworkError):
                    await request.post(f"{url}/getMe")
            assert await request.post(f"{url}/getMe") is True
    finally:
        await request.shutdown()


async def test_long_polling_goes_over_the_adapters_connections_so_no_httpx_client_is_made() -> None:
    async def handle(_event: object) -> list[Action]:
        return []

    bot = PtbBot("123:ABC", "http://127.0.0.1:9", handle)
    try:
        polls, calls = bot.app.bot._request  # PTB's (getUpdates, every other call) pair
        assert isinstance(polls, PooledRequest)
        assert isinstance(calls, PooledRequest)
        assert polls is not calls  # a long poll never holds up a reply
    finally:
        await bot.close()


def self_signed(folder: Path) -> ssl.SSLContext:
    """A server TLS context with a certificate for 127.0.0.1 that no authority signed."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
    subprocess.run([*command, "-addext", "subjectAltName=IP:127.0.0.1"], check=True)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    return tls


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_https_refuses_a_certificate_nobody_vouches_for(tmp_path: Path) -> None:
    tls = self_signed(tmp_path)
    served: list[bool] = []

    async def serve(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.append(True)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
    request = PooledRequest(REQUESTS_AT_ONCE)
    try:
        with pytest.raises(NetworkError, match="CERTIFICATE_VERIFY_FAILED"):
            await request.post(f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/getMe")
    finally:
        await request.shutdown()
        server.close()
    assert served == []  # the handshake failed: not a byte of the call was sent
