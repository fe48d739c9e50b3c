"""The loyalty bot on python-telegram-bot 22: the core's events in, its actions out.

One `TypeHandler(Update)` receives every update; the core decides what it means.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButton,
    MenuButtonDefault,
    MenuButtonWebApp,
    ReplyKeyboardMarkup,
    Update,
    WebAppInfo,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults, TypeHandler

from bot.conversation.actions import Answer, Button, Edit, Keyboard, Menu, Send
from bot.conversation.channels import CannotCheck, Membership
from bot.telegram.pace import Pace
from bot.telegram.ptb_http import PooledRequest
from bot.telegram.replies import (
    RecipientBlocked,
    RetryLater,
    TelegramUnreachable,
    TokenRefused,
    bad_request,
    perform,
)
from bot.telegram.updates import ALLOWED_UPDATES, UPDATES_AT_ONCE, Handle, incoming

# Bot API calls in flight at once: 8 at Telegram's ~50 ms round trip carry about 160 sends
# a second, five times its 30 a second (paid broadcasts at 1,000 a second need aiogram).
REQUESTS_AT_ONCE = 8


@contextmanager
def telegram_errors() -> Iterator[None]:
    """PTB's exceptions as the ones `perform` understands (retry_after normalised)."""
    try:
        yield
    except RetryAfter as error:
        wait = error.retry_after
        raise RetryLater(wait.total_seconds() if isinstance(wait, timedelta) else wait) from error
    except Forbidden as error:
        raise RecipientBlocked(error.message) from error
    except InvalidToken as error:
        raise TokenRefused(error.message) from error
    except BadRequest as error:
        raise bad_request(error.message) from error
    except NetworkError as error:
        raise TelegramUnreachable(error.message) from error


def web_app(url: str | None) -> WebAppInfo | None:
    """A button's Mini App, if it opens one."""
    return WebAppInfo(url) if url else None


def inline(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """The core's buttons as an inline keyboard."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    b.text, callback_data=b.data, url=b.url, web_app=web_app(b.web_app)
                )
                for b in row
            ]
            for row in rows
        ]
    )


def reply_keyboard(keyboard: Keyboard) -> ReplyKeyboardMarkup:
    """The core's menu as a reply keyboard, the phone button last."""
    rows = [[KeyboardButton(text) for text in row] for row in keyboard.rows]
    if keyboard.contact_button:
        rows.append([KeyboardButton(keyboard.contact_button, request_contact=True)])
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)


class PtbReplies:
    """`BotApi` over a python-telegram-bot `Bot`: at most REQUESTS_AT_ONCE calls in flight."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.pace = Pace()  # every message to Telegram takes its turn here (replies.perform)
        self.requests = asyncio.Semaphore(REQUESTS_AT_ONCE)

    @asynccontextmanager
    async def _call(self) -> AsyncIterator[None]:
        """One Bot API call, in its turn among REQUESTS_AT_ONCE, with PTB's errors translated."""
        async with self.requests:
            with telegram_errors():
                yield

    async def send(self, action: Send) -> int:
        markup = reply_keyboard(action.keyboard) if action.keyboard else inline(action.buttons)
        paid = action.paid or None
        async with self._call():
            if action.photo is not None:
                message = await self.bot.send_photo(
                    action.chat_id,
                    action.photo,
                    caption=action.text,
                    reply_markup=markup,
                    allow_paid_broadcast=paid,
                )
            else:
                message = await self.bot.send_message(
                    action.chat_id, action.text, reply_markup=markup, allow_paid_broadcast=paid
                )
        return message.message_id

    async def edit(self, action: Edit) -> None:
        async with self._call():
            await self.bot.edit_message_text(
                action.text,
                chat_id=action.chat_id,
                message_id=action.message_id,
                reply_markup=inline(action.buttons),
            )

    async def answer(self, action: Answer) -> None:
        async with self._call():
            await self.bot.answer_callback_query(
                action.callback_id, text=action.text, show_alert=action.alert
            )

    async def menu(self, action: Menu) -> None:
        scope = BotCommandScopeChat(action.chat_id)
        async with self._call():
            if action.commands:
                await self.bot.set_my_commands(
                    [BotCommand(name, text) for name, text in action.commands], scope=scope
                )
            else:
                await self.bot.delete_my_commands(scope=scope)
            if action.app is not None:
                text, url = action.app
                button: MenuButton = MenuButtonWebApp(text, WebAppInfo(url))
            elif not action.commands:
                button = MenuButtonDefault()
            else:
                return
            await self.bot.set_chat_menu_button(action.chat_id, button)


class PtbBot:
    """A running PTB application that hands every update to `handle` and performs the reply."""

    def __init__(self, token: str, api_base: str, handle: Handle) -> None:
        self._requests = (PooledRequest(REQUESTS_AT_ONCE), PooledRequest(1))
        calls, polls = self._requests
        self.app: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{api_base}/bot")
            .base_file_url(f"{api_base}/file/bot")
            .defaults(Defaults(parse_mode=ParseMode.HTML))
            .concurrent_updates(UPDATES_AT_ONCE)
            .request(calls)
            .get_updates_request(polls)
            .build()
        )
        self.handle = handle
        self.replies = PtbReplies(self.app.bot)
        self.app.add_handler(TypeHandler(Update, self._on_update))

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        event = incoming(update)
        if event is not None:
            await perform(self.replies, await self.handle(event))

    async def username(self) -> str:
        """The bot's @username, from getMe (TokenRefused, TelegramUnreachable); the
        application is initialised here."""
        with telegram_errors():
            await self.app.initialize()
        return str(self.app.bot.username)

    async def chat_member(self, chat: str, user_id: int) -> Membership:
        """getChatMember: the user's standing in `chat` (CannotCheck when Telegram will not
        say: the bot is no admin there, no such chat, Telegram unreachable)."""
        try:
            member = await self.app.bot.get_chat_member(chat, user_id)
        except TelegramError as error:
            raise CannotCheck(error.message) from error
        return Membership(str(member.status), bool(getattr(member, "is_member", False)))

    async def set_menu_button(self, text: str, url: str) -> None:
        """Every private chat's menu button opens the Mini App at `url`."""
        await self.app.bot.set_chat_menu_button(menu_button=MenuButtonWebApp(text, WebAppInfo(url)))

    async def set_commands(self, menus: dict[str, list[tuple[str, str]]]) -> None:
        """The command menu per language ('' is the default for everyone else)."""
        for language, commands in menus.items():
            await self.app.bot.set_my_commands(
                [BotCommand(name, text) for name, text in commands], language_code=language or None
            )

    async def poll(self) -> None:
        """Long polling until cancelled (any webhook is removed first)."""
        assert self.app.updater is not None
        await self.app.bot.delete_webhook()
        await self.app.start()
        await self.app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=0)
        try:
            await asyncio.Event().wait()
        finally:
            await self.app.updater.stop()
            await self.app.stop()

    async def set_webhook(self, url: str, secret: str) -> None:
        """Ask Telegram to deliver updates to `url` with `secret` in the header."""
        await self.app.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    async def feed(self, data: dict[str, Any]) -> None:
        """Handle one update received on the webhook."""
        await self.app.process_update(Update.de_json(data, self.app.bot))

    async def close(self) -> None:
        """Shut the application down, and its Bot API sessions even when it never started (a
        refused token: PTB opened them, then getMe failed, and it shuts down nothing)."""
        try:
            await self.app.shutdown()
        finally:
            for request in self._requests:
                await request.shutdown()


@asynccontextmanager
async def ptb_bot(token: str, api_base: str, handle: Handle) -> AsyncIterator[PtbBot]:
    """A `PtbBot`, shut down on exit."""
    bot = PtbBot(token, api_base, handle)
    try:
        yield bot
    finally:
        await bot.close()
