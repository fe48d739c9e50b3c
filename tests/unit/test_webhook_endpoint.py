"""The webhook endpoint refuses any request without the exact secret header with 403."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from bot.telegram.webhook import SECRET_HEADER, webhook_app

SECRET = "s3cret-Token_0123456"
UPDATE = json.dumps({"update_id": 7, "message": {"text": "/start"}}).encode()


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[int, list[dict[str, Any]]]]:
    """The webhook app on a free port, and the updates it fed on."""
    fed: list[dict[str, Any]] = []

    async def feed(update: dict[str, Any]) -> None:
        fed.append(update)

    runner = web.AppRunner(webhook_app("/hook", SECRET, feed))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield int(runner.addresses[0][1]), fed
    await runner.cleanup()


async def post(port: int, secret: bytes | None) -> int:
    """POST the update with `secret` as raw header bytes (None: no header); the status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    header = b"" if secret is None else SECRET_HEADER.encode() + b": " + secret + b"\r\n"
    writer.write(
        b"POST /hook HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        + header
        + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(UPDATE)
        + UPDATE
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


@pytest.mark.parametrize(
    "secret",
    [
        None,
        b"",
        b"wrong",
        SECRET.encode()[:-1],
        "s3cret-Token_012345é".encode(),  # UTF-8, not ASCII
        b"s3cret-Token_\xff\xfe\xfd456",  # not even UTF-8: aiohttp keeps it as surrogates
    ],
)
async def test_anything_but_the_secret_is_forbidden(endpoint, secret):
    port, fed = endpoint
    assert await post(port, secret) == 403
    assert fed == []


async def test_the_secret_lets_the_update_in_once(endpoint):
    port, fed = endpoint
    assert await post(port, SECRET.encode()) == 200
    assert await post(port, SECRET.encode()) == 200  # Telegram's retry: acknowledged only
    assert fed == [json.loads(UPDATE)]
