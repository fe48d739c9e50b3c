"""Serving the merchant HTTP API beside the bot, imported only when API_PORT is set.

FastAPI and uvicorn weigh about 40 MB of memory; a bot that serves no API never loads them.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import uvicorn

from bot.api.app import create_api
from bot.health import Health
from bot.web.site import WebSettings
from domain.program import Program
from storage.database import Database
from storage.uow import UnitsOfWork

GRACE = 5  # seconds the requests under way may take to finish when the bot stops


class EmbeddedServer(uvicorn.Server):
    """uvicorn that leaves signals to the process it is embedded in.

    uvicorn's own handlers would take SIGTERM and SIGINT from the bot while it serves: the
    API would stop alone, and the signal, raised again afterwards, would kill the process
    without the bot's orderly stop. The bot stops it by cancelling `serve_api`.
    """

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_api(
    sock: socket.socket, database: Database, program: Program, health: Health, web: WebSettings
) -> None:
    """The merchant HTTP API and the web pages on a bound socket, in this process and event
    loop, until cancelled; then the requests under way finish (up to GRACE seconds)."""
    units = UnitsOfWork(database)
    clock = lambda: datetime.now(UTC)  # noqa: E731
    api = create_api(units.writer, units.reader, program, clock, health=health, web=web)
    config = uvicorn.Config(
        api, log_level="warning", lifespan="off", timeout_graceful_shutdown=GRACE
    )
    server = EmbeddedServer(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await asyncio.shield(serving)
    finally:
        server.should_exit = True
        await serving
