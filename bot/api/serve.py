"""Serving the merchant HTTP API beside the bot, imported only when API_PORT is set.

FastAPI and uvicorn weigh about 40 MB of memory; a bot that serves no API never loads them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import uvicorn

from bot.api.app import create_api
from bot.settings import Settings
from domain.program import Program
from storage.database import Database
from storage.uow import SqlUnitOfWork


async def serve_api(settings: Settings, database: Database, program: Program) -> None:
    """The merchant HTTP API on API_HOST:API_PORT, in this process and event loop.

    uvicorn catches Ctrl+C while it serves, stops, and raises the signal again, which
    then stops the bot.
    """
    api = create_api(lambda: SqlUnitOfWork(database),
                     lambda: SqlUnitOfWork(database, read_only=True), program,
                     lambda: datetime.now(UTC))
    config = uvicorn.Config(api, host=settings.api_host, port=settings.api_port,
                            log_level="warning", lifespan="off")
    await uvicorn.Server(config).serve()
