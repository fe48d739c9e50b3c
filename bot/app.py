"""The composition root: settings in, a running bot out, for `run` and the demo alike."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from datetime import UTC, datetime
from functools import partial
from typing import Protocol
from urllib.parse import urlparse

from aiohttp import web

from bot.broadcast_status import status_loop
from bot.conversation.actions import Action
from bot.conversation.context import Context, sign
from bot.conversation.core import Conversation
from bot.conversation.events import Incoming
from bot.conversation.menus import staff_menus
from bot.conversation.texts import command_menus
from bot.delivery.wiring import outbox_sender
from bot.program_report import load_translated_program
from bot.scheduler import run_scheduler
from bot.settings import Settings, require_bot_settings
from bot.telegram.replies import BotApi, perform
from bot.telegram.updates import Handle
from bot.telegram.webhook import webhook_app
from domain.program import Program
from domain.program_file import default_program_path
from storage.database import Database
from storage.migrate import ensure_schema
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)



class TelegramBot(Protocol):
    """What `run_bot` needs of either adapter."""

    @property
    def replies(self) -> BotApi: ...

    async def username(self) -> str: ...
    async def set_commands(self, menus: dict[str, list[tuple[str, str]]]) -> None: ...
    async def poll(self) -> None: ...
    async def set_webhook(self, url: str, secret: str) -> None: ...
    async def feed(self, data: dict[str, object]) -> None: ...


Factory = Callable[[str, str, Handle], AbstractAsyncContextManager[TelegramBot]]


def framework(name: str) -> Factory:
    """The adapter for `name`, importing only that framework (each costs tens of MB)."""
    if name == "ptb":
        from bot.telegram.ptb_app import ptb_bot

        return ptb_bot
    from bot.telegram.aiogram_app import aiogram_bot

    return aiogram_bot


async def open_database(settings: Settings) -> Database:
    """The configured database, its schema created or upgraded first if needed."""
    database = Database(settings.database_url)
    await ensure_schema(database)
    return database


def program_of(settings: Settings) -> Program:
    """The configured program file, or the bundled example."""
    return load_translated_program(settings.loyalty_program or default_program_path())


def button_secret(token: str) -> bytes:
    """The key that signs button data, derived from the bot token (never stored)."""
    return hashlib.sha256(b"loyalty-bot buttons|" + token.encode()).digest()


def context(program: Program, database: Database, username: str, token: str,
            admins: frozenset[int] = frozenset()) -> Context:
    """Handlers' context over one database."""
    return Context(program=program, writer=lambda: SqlUnitOfWork(database),
                   reader=lambda: SqlUnitOfWork(database, read_only=True),
                   clock=lambda: datetime.now(UTC), bot_username=username,
                   secret=button_secret(token), admins=admins)


@asynccontextmanager
async def started_bot(settings: Settings, database: Database,
                      program: Program) -> AsyncIterator[TelegramBot]:
    """The configured framework's bot, identified, with its command menus set."""
    token = require_bot_settings(settings)
    conversation: Conversation | None = None

    async def handle(event: Incoming) -> list[Action]:
        assert conversation is not None, "update before start-up finished"
        return await conversation.handle(event)

    factory = framework(settings.bot_framework)
    async with factory(token, settings.telegram_api_base, handle) as telegram:
        username = await telegram.username()
        conversation = Conversation(context(program, database, username, token,
                                            settings.admins))
        await telegram.set_commands(command_menus(program.info.locales))
        await perform(telegram.replies, await staff_menus(conversation.ctx))
        log.info("bot @%s is up on %s", username, settings.bot_framework)
        gc.freeze()  # start-up objects live forever: keep full collections from walking them
        yield telegram


async def run_bot(settings: Settings) -> None:
    """Run until cancelled: long polling, or a webhook when WEBHOOK_URL is set."""
    program = program_of(settings)
    database = await open_database(settings)
    try:
        async with started_bot(settings, database, program) as telegram:
            clock = lambda: datetime.now(UTC)  # noqa: E731
            secret = button_secret(require_bot_settings(settings))
            sender = outbox_sender(database, telegram.replies, settings, partial(sign, secret))
            helpers = [asyncio.create_task(sender.run()), asyncio.create_task(status_loop(
                lambda: SqlUnitOfWork(database),
                lambda: SqlUnitOfWork(database, read_only=True), telegram.replies,
                settings.delivery_rate))]
            if settings.api_port:
                from bot.api.serve import serve_api  # FastAPI only when the API is served

                helpers.append(asyncio.create_task(serve_api(settings, database, program)))
            if settings.scheduler:
                helpers.append(asyncio.create_task(run_scheduler(database, program, clock)))
            try:
                if settings.webhook_url:
                    await serve_webhook(settings, telegram)
                else:
                    await telegram.poll()
            finally:
                for task in helpers:
                    task.cancel()
                    with suppress(asyncio.CancelledError):
                        await task
    finally:
        await database.dispose()


async def serve_webhook(settings: Settings, telegram: TelegramBot) -> None:
    """Listen on WEBHOOK_HOST:WEBHOOK_PORT and register WEBHOOK_URL with Telegram."""
    assert settings.webhook_url is not None
    assert settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    path = urlparse(settings.webhook_url).path or "/"
    runner = web.AppRunner(webhook_app(path, secret, telegram.feed))
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
        await telegram.set_webhook(settings.webhook_url, secret)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
