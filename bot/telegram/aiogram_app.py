"""The loyalty bot on aiogram 3: the core's events in, its actions out, nothing else.

One handler on each observed update type receives the whole update (aiogram passes it as
`event_update`); the core decides what it means.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from functools import cache
from http import HTTPStatus
from typing import Any, Literal, cast

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import EditMessageText, Response, SendMessage, SendPhoto, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonDefault,
    MenuButtonWebApp,
    ReplyKeyboardMarkup,
    Update,
    WebAppInfo,
)
from pydantic import BaseModel, ValidationError

from bot.conversation.actions import Answer, Button, Edit, Keyboard, Menu, Send
from bot.conversation.channels import CannotCheck, Membership
from bot.telegram.pace import Pace
from bot.telegram.replies import (
    RecipientBlocked,
    RetryLater,
    TelegramUnreachable,
    TokenRefused,
    bad_request,
    perform,
)
from bot.telegram.updates import (
    ALLOWED_UPDATES,
    UNDER_WAY_GRACE,
    UPDATES_AT_ONCE,
    Handle,
    incoming,
)


@cache
def response_type(returning: Any) -> type[Response[Any]]:
    """`Response[returning]` kept alive, so pydantic's weak cache never has to rebuild it."""
    # aiogram parametrizes Response on every call; a garbage collection frees the model
    # soon after, and rebuilding Response[Message] takes ~4 ms of CPU: at 1000 sends a
    # second that was up to one rebuild every 75 sends, a tenth of the bot's CPU, each a stall.
    return Response[returning]


class SentMessage(BaseModel):
    """What the adapter reads of a message Telegram has sent or edited: its id."""

    message_id: int


class Sent(BaseModel):
    """Telegram's answer to a message sent or edited, read no further than `SentMessage`."""

    ok: Literal[True]
    result: SentMessage | bool  # an edit may answer True


SENDS = (SendMessage, SendPhoto, EditMessageText)  # the calls whose answer is read as `Sent`


class KeptSession(AiohttpSession):
    """aiogram's aiohttp session, keeping each response model it parses alive.

    A message sent or edited is read as `Sent`: aiogram would build the whole Message
    (its text entities, its keyboard), 80 us for a /rewards reply, to give the adapter an
    id. Any other answer, and every error, is aiogram's to read.
    """

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        if isinstance(method, SENDS) and HTTPStatus.OK <= status_code < HTTPStatus.MULTIPLE_CHOICES:
            with suppress(ValidationError):
                return cast(Response[TelegramType], Sent.model_validate_json(content))
        response_type(method.__returning__)
        return super().check_response(bot, method, status_code, content)


@contextmanager
def telegram_errors() -> Iterator[None]:
    """aiogram's exceptions as the ones `perform` understands."""
    try:
        yield
    except TelegramRetryAfter as error:
        raise RetryLater(error.retry_after) from error
    except TelegramForbiddenError as error:
        raise RecipientBlocked(error.message) from error
    except (TelegramUnauthorizedError, TelegramNotFound) as error:
        raise TokenRefused(error.message) from error
    except TelegramBadRequest as error:
        raise bad_request(error.message) from error
    except (TelegramNetworkError, TelegramServerError) as error:
        raise TelegramUnreachable(error.message) from error


def web_app(url: str | None) -> WebAppInfo | None:
    """A button's Mini App, if it opens one."""
    return WebAppInfo(url=url) if url else None


def inline(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """The core's buttons as an inline keyboard."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=b.text, callback_data=b.data, url=b.url, web_app=web_app(b.web_app)
                )
                for b in row
            ]
            for row in rows
        ]
    )


def reply_keyboard(keyboard: Keyboard) -> ReplyKeyboardMarkup:
    """The core's menu as a reply keyboard, the phone button last."""
    rows = [[KeyboardButton(text=text) for text in row] for row in keyboard.rows]
    if keyboard.contact_button:
        rows.append([KeyboardButton(text=keyboard.contact_button, request_contact=True)])
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, is_persistent=True)


class AiogramReplies:
    """`BotApi` over an aiogram `Bot`."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.pace = Pace()  # every message to Telegram takes its turn here (replies.perform)

    async def send(self, action: Send) -> int:
        markup = reply_keyboard(action.keyboard) if action.keyboard else inline(action.buttons)
        paid = action.paid or None
        with telegram_errors():
            if action.photo is not None:
                photo = (
                    BufferedInputFile(action.photo, filename="card.png")
                    if isinstance(action.photo, bytes)
                    else action.photo
                )
                message = await self.bot.send_photo(
                    action.chat_id,
                    photo,
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
        with telegram_errors():
            await self.bot.edit_message_text(
                text=action.text,
                chat_id=action.chat_id,
                message_id=action.message_id,
                reply_markup=inline(action.buttons),
            )

    async def answer(self, action: Answer) -> None:
        with telegram_errors():
            await self.bot.answer_callback_query(
                action.callback_id, text=action.text, show_alert=action.alert
            )

    async def menu(self, action: Menu) -> None:
        scope = BotCommandScopeChat(chat_id=action.chat_id)
        with telegram_errors():
            if action.commands:
                await self.bot.set_my_commands(
                    [BotCommand(command=name, description=text) for name, text in action.commands],
                    scope=scope,
                )
            else:
                await self.bot.delete_my_commands(scope=scope)
            if action.app is not None:
                text, url = action.app
                button: MenuButtonWebApp | MenuButtonDefault = MenuButtonWebApp(
                    text=text, web_app=WebAppInfo(url=url)
                )
            elif not action.commands:
                button = MenuButtonDefault()
            else:
                return
            await self.bot.set_chat_menu_button(chat_id=action.chat_id, menu_button=button)


class AiogramBot:
    """A running aiogram bot that hands every update to `handle` and performs the reply."""

    def __init__(self, token: str, api_base: str, handle: Handle) -> None:
        session = KeptSession(api=TelegramAPIServer.from_base(api_base))
        self.bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        self.replies = AiogramReplies(self.bot)
        self.handle = handle
        self.under_way: set[asyncio.Task[Any]] = set()  # the updates being handled
        self.dispatcher = Dispatcher(disable_fsm=True)  # the core keeps each chat's step
        for observer in (
            self.dispatcher.message,
            self.dispatcher.callback_query,
            self.dispatcher.my_chat_member,
        ):
            observer.register(self._on_update)

    async def _on_update(self, _event: object, event_update: Update) -> None:
        event = incoming(event_update)
        if event is None:
            return
        task = asyncio.current_task()
        assert task is not None
        self.under_way.add(task)
        try:
            await perform(self.replies, await self.handle(event))
        finally:
            self.under_way.discard(task)

    async def username(self) -> str:
        """The bot's @username, from getMe (TokenRefused, TelegramUnreachable)."""
        with telegram_errors():
            me = await self.bot.get_me()
        return me.username or ""

    async def chat_member(self, chat: str, user_id: int) -> Membership:
        """getChatMember: the user's standing in `chat` (CannotCheck when Telegram will not
        say: the bot is no admin there, no such chat, Telegram unreachable)."""
        try:
            member = await self.bot.get_chat_member(chat, user_id)
        except (TelegramAPIError, TelegramNetworkError) as error:
            raise CannotCheck(str(error)) from error
        return Membership(
            ChatMemberStatus(member.status).value, bool(getattr(member, "is_member", False))
        )

    async def set_menu_button(self, text: str, url: str) -> None:
        """Every private chat's menu button opens the Mini App at `url`."""
        await self.bot.set_chat_menu_button(
            menu_button=MenuButtonWebApp(text=text, web_app=WebAppInfo(url=url))
        )

    async def set_commands(self, menus: dict[str, list[tuple[str, str]]]) -> None:
        """The command menu per language ('' is the default for everyone else)."""
        for language, commands in menus.items():
            await self.bot.set_my_commands(
                [BotCommand(command=name, description=text) for name, text in commands],
                scope=BotCommandScopeDefault(),
                language_code=language or None,
            )

    async def poll(self) -> None:
        """Long polling until cancelled (any webhook is removed first); then the updates
        under way finish (aiogram handles each in a task of its own and leaves them).

        Polling runs in its own task and is stopped with `stop_polling`: cancelling
        `start_polling` itself leaves aiogram's fetch loop running, which then fails
        against the closed session and logs an error on every stop.
        """
        await self.bot.delete_webhook()
        polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot,
                allowed_updates=ALLOWED_UPDATES,
                handle_signals=False,
                close_bot_session=False,
                tasks_concurrency_limit=UPDATES_AT_ONCE,
            )
        )
        try:
            await asyncio.shield(polling)
        except asyncio.CancelledError:
            with suppress(RuntimeError):  # "Polling is not started": cancelled before it did
                await self.dispatcher.stop_polling()
            polling.cancel()
            with suppress(asyncio.CancelledError):
                await polling
            raise
        finally:
            if self.under_way:
                await asyncio.wait(set(self.under_way), timeout=UNDER_WAY_GRACE)

    async def set_webhook(self, url: str, secret: str) -> None:
        """Ask Telegram to deliver updates to `url` with `secret` in the header."""
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    async def feed(self, data: dict[str, Any]) -> None:
        """Handle one update received on the webhook."""
        update = Update.model_validate(data, context={"bot": self.bot})
        await self.dispatcher.feed_update(self.bot, update)

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.bot.session.close()


@asynccontextmanager
async def aiogram_bot(token: str, api_base: str, handle: Handle) -> AsyncIterator[AiogramBot]:
    """An `AiogramBot`, closed on exit."""
    bot = AiogramBot(token, api_base, handle)
    try:
        yield bot
    finally:
        await bot.close()
