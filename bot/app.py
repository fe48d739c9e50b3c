"""The composition root: settings in, a running bot out, for `run` and the demo alike."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    ExitStack,
    asynccontextmanager,
    contextmanager,
    nullcontext,
)
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Literal, NamedTuple, Protocol
from urllib.parse import urlparse

from bot.broadcast_status import status_loop
from bot.conversation.actions import Action
from bot.conversation.channels import ChannelLookup, Membership, warn_unchecked_channels
from bot.conversation.context import Context, sign
from bot.conversation.core import Conversation
from bot.conversation.events import Incoming
from bot.conversation.menus import staff_menus
from bot.conversation.texts import command_menus, labels
from bot.delivery.wiring import outbox_sender
from bot.health import Health
from bot.logs import REDACTED
from bot.program_report import load_translated_program
from bot.scheduler import run_scheduler
from bot.settings import Settings, SettingsError, require_bot_settings
from bot.telegram.replies import BotApi, TelegramUnreachable, TokenRefused, perform
from bot.telegram.updates import UNDER_WAY_GRACE, Handle
from domain.program import Program
from domain.program_file import default_program_path
from storage.database import Database
from storage.migrate import ensure_schema
from storage.uow import UnitsOfWork

log = logging.getLogger(__name__)
YOUNG_COLLECTION = 10_000  # allocations between collections of young objects (CPython: 700)


class TelegramBot(Protocol):
    """What `run_bot` needs of either adapter."""

    @property
    def replies(self) -> BotApi: ...

    async def username(self) -> str: ...
    async def chat_member(self, chat: str, user_id: int) -> Membership: ...
    async def set_commands(self, menus: dict[str, list[tuple[str, str]]]) -> None: ...
    async def set_menu_button(self, text: str, url: str) -> None: ...
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
    """The configured database, checked writable and its schema created or upgraded first
    if needed (UnwritableDatabase for a read-only SQLite file or directory)."""
    database = Database(settings.database_url)
    try:
        await database.check_writable()
        await ensure_schema(database)
    except BaseException:
        await database.dispose()
        raise
    return database


def program_of(settings: Settings) -> Program:
    """The configured program file, or the bundled example."""
    return load_translated_program(settings.loyalty_program or default_program_path())


def button_secret(token: str) -> bytes:
    """The key that signs button data, derived from the bot token (never stored)."""
    return hashlib.sha256(b"loyalty-bot buttons|" + token.encode()).digest()


def context(
    program: Program,
    database: Database,
    username: str,
    token: str,
    admins: frozenset[int] = frozenset(),
    channels: ChannelLookup | None = None,
) -> Context:
    """Handlers' context over one database; `channels` asks Telegram who is in a channel."""
    units = UnitsOfWork(database)
    return Context(
        program=program,
        writer=units.writer,
        reader=units.reader,
        clock=lambda: datetime.now(UTC),
        bot_username=username,
        secret=button_secret(token),
        admins=admins,
        channels=channels,
    )


def bot_id(token: str) -> int:
    """The bot's own Telegram id: the number a bot token starts with ("123456:ABC...")."""
    return int(token.split(":", 1)[0])


@asynccontextmanager
async def started_bot(
    settings: Settings, program: Program, health: Health, announce: bool = True
) -> AsyncIterator[tuple[TelegramBot, Database]]:
    """The configured framework's bot, identified, with its command menus set if it
    `announce`s, and the database (checked and migrated once Telegram has accepted the
    token)."""
    token = require_bot_settings(settings)
    conversation: Conversation | None = None

    async def handle(event: Incoming) -> list[Action]:
        assert conversation is not None, "update before start-up finished"
        actions = await conversation.handle(event)
        health.update_handled(datetime.now(UTC))
        return actions

    factory = framework(settings.bot_framework)
    async with factory(token, settings.telegram_api_base, handle) as telegram:
        username = await identified(telegram, settings, token)
        database = await open_database(settings)
        try:
            ctx = context(program, database, username, token, settings.admins, telegram.chat_member)
            conversation = Conversation(
                replace(
                    ctx,
                    web_url=settings.web_url,
                    card_qr_seconds=settings.card_qr_seconds,
                )
            )
            if announce:
                await telegram.set_commands(command_menus(program.info.locales))
                if settings.mini_app_url:
                    label = labels(program.info.locales[0])["open_app"]
                    await telegram.set_menu_button(label, settings.mini_app_url)
                await perform(telegram.replies, await staff_menus(conversation.ctx))
                await warn_unchecked_channels(program, telegram.chat_member, bot_id(token))
            log.info("bot @%s is up on %s", username, settings.bot_framework)
            gc.freeze()  # start-up objects live forever: keep full collections from walking them
            # Young objects collected every 700 allocations (CPython's default) cost the
            # benchmark's 1,800 /balance and /rewards updates 0.11 ms of CPU each (421 young,
            # 39 middle, 3 full collections); every 10,000, 0.06 ms (21, 2, none).
            gc.set_threshold(YOUNG_COLLECTION, 10, 10)
            yield telegram, database
        finally:
            await database.dispose()


async def identified(telegram: TelegramBot, settings: Settings, token: str) -> str:
    """The bot's @username; SettingsError in one line if Telegram refuses the token or
    cannot be reached (the first things to go wrong on a first run)."""
    try:
        return await telegram.username()
    except TokenRefused:
        raise SettingsError(
            "BOT_TOKEN: Telegram refused this token; copy it again from "
            "@BotFather (/mybots, API Token)"
        ) from None
    except TelegramUnreachable as failure:
        reason = str(failure).replace(token, REDACTED)
        raise SettingsError(
            f"TELEGRAM_API_BASE: cannot reach {settings.telegram_api_base} "
            f"({reason}); check the network, or leave TELEGRAM_API_BASE "
            "unset for api.telegram.org"
        ) from None


Sharing = Literal["alone", "shared", "held"]
"""How a port is taken: by one process alone; shared by the workers of `run --workers N`,
each listening (SO_REUSEPORT: the kernel spreads the connections over them); or held for
them by their supervisor, bound but not listening (it accepts nothing, and no other
program can take the port while workers come and go)."""


class Listeners(NamedTuple):
    """The sockets `run` serves on, bound before anything else starts (None: not served)."""

    api: socket.socket | None = None
    webhook: socket.socket | None = None


@contextmanager
def bound(settings: Settings, sharing: Sharing = "alone") -> Iterator[Listeners]:
    """The merchant API's socket (unless API_PORT=0) and the webhook's (with WEBHOOK_URL),
    bound, and closed on exit; SettingsError in one line for a port taken."""
    with ExitStack() as sockets:
        api = webhook = None
        if settings.api_port:
            api = sockets.enter_context(
                listening(settings.api_host, settings.api_port, "API_PORT", sharing)
            )
        if settings.webhook_url:
            webhook = sockets.enter_context(
                listening(settings.webhook_host, settings.webhook_port, "WEBHOOK_PORT", sharing)
            )
        yield Listeners(api, webhook)


@contextmanager
def listening(
    host: str, port: int, setting: str, sharing: Sharing = "alone"
) -> Iterator[socket.socket]:
    """A socket bound to host:port, closed on exit; SettingsError naming `setting` when the
    address is taken or not this machine's, so start-up stops with one line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        if sharing == "held":
            sock = held_port(host, port, family)
        else:
            sock = socket.create_server((host, port), family=family, reuse_port=sharing == "shared")
    except OSError as error:
        raise cannot_listen(setting, host, port, error) from None
    with sock:
        yield sock


def held_port(host: str, port: int, family: socket.AddressFamily) -> socket.socket:
    """A socket bound to host:port with SO_REUSEPORT and not listening, set up as
    `socket.create_server` sets up the workers' listening ones."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def cannot_listen(setting: str, host: str, port: int, error: OSError) -> SettingsError:
    """One line naming `setting`: host:port cannot be listened on, and the system's reason."""
    reason = os.strerror(error.errno) if error.errno else str(error)
    return SettingsError(f"{setting}: cannot listen on {host}:{port} ({reason})")


def address(sock: socket.socket) -> str:
    """host:port a listening socket is bound to."""
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def run_bot(
    settings: Settings, listeners: Listeners | None = None, announce: bool = True
) -> None:
    """Run until cancelled: long polling, or a webhook when WEBHOOK_URL is set.

    It binds its ports first (a taken port stops start-up before all else), unless given
    `listeners`, as each of several workers (bot.workers) is, of which only the first
    `announce`s the bot to Telegram (its menus and its webhook).

    Cancelled (Ctrl+C or SIGTERM), it stops in order: no new updates, the updates under
    way finish, the outbox sender finishes its sends and hands back the rows it claimed,
    then the status loop, the API and the scheduler stop and the database is closed.
    """
    program = program_of(settings)
    health = Health()
    with nullcontext(listeners) if listeners is not None else bound(settings) as (api, webhook):
        async with started_bot(settings, program, health, announce) as (telegram, database):
            helpers = start_helpers(settings, program, database, telegram, health, api)
            log.info(
                "listening: %s; %s",
                f"merchant API on http://{address(api)}"
                if api
                else "merchant API off (API_PORT=0)",
                updates_line(settings, webhook),
            )
            try:
                if webhook is not None:
                    await serve_webhook(settings, telegram, webhook, announce)
                else:
                    await telegram.poll()
            except asyncio.CancelledError:
                log.info("stopping: taking no more updates, finishing the work under way")
                raise
            finally:
                await stop(helpers)


def updates_line(settings: Settings, webhook: socket.socket | None) -> str:
    """Where Telegram's updates come from, for the start-up log line (never the secret)."""
    if webhook is None or settings.webhook_url is None:
        return "Telegram updates by long polling"
    path = urlparse(settings.webhook_url).path or "/"
    return (
        f"Telegram updates on the webhook at http://{address(webhook)}{path} "
        f"(public URL {settings.webhook_url})"
    )


def start_helpers(
    settings: Settings,
    program: Program,
    database: Database,
    telegram: TelegramBot,
    health: Health,
    api: socket.socket | None,
) -> list[asyncio.Task[None]]:
    """The tasks beside the bot: outbox sender, broadcast status, API, scheduler."""
    clock = lambda: datetime.now(UTC)  # noqa: E731
    secret = button_secret(require_bot_settings(settings))
    sender = outbox_sender(database, telegram.replies, settings, partial(sign, secret), program)
    units = UnitsOfWork(database)
    helpers = [
        asyncio.create_task(sender.run(), name="outbox sender"),
        asyncio.create_task(
            status_loop(units.writer, units.reader, telegram.replies, settings.delivery_rate),
            name="broadcast status",
        ),
    ]
    if api is not None:
        from bot.api.serve import serve_api  # FastAPI only when the API is served
        from bot.web.site import WebSettings

        web = WebSettings.of(settings, require_bot_settings(settings), secret)
        helpers.append(
            asyncio.create_task(serve_api(api, database, program, health, web), name="merchant API")
        )
    if settings.scheduler:
        helpers.append(
            asyncio.create_task(
                run_scheduler(
                    database, program, clock, figures=api is not None and bool(settings.admins)
                ),
                name="scheduler",
            )
        )
    return helpers


async def stop(helpers: list[asyncio.Task[None]]) -> None:
    """Cancel each helper in turn and let it finish its own way (the sender first)."""
    for task in helpers:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("%s failed", task.get_name())


async def serve_webhook(
    settings: Settings, telegram: TelegramBot, sock: socket.socket, register: bool = True
) -> None:
    """Serve the webhook on `sock` and register WEBHOOK_URL with Telegram (if `register`);
    on the way out, the updates being handled finish (up to UNDER_WAY_GRACE seconds)."""
    from aiohttp import web  # only to serve a webhook: PTB's polling does without (10 MB)

    from bot.telegram.webhook import webhook_app

    assert settings.webhook_url is not None
    assert settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    path = urlparse(settings.webhook_url).path or "/"
    # No access log: a line per update says nothing (as aiogram.event's, held at WARNING).
    runner = web.AppRunner(
        webhook_app(path, secret, telegram.feed), access_log=None, shutdown_timeout=UNDER_WAY_GRACE
    )
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        if register:
            await telegram.set_webhook(settings.webhook_url, secret)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
