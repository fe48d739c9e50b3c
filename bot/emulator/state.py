"""Everything the emulated Telegram knows: the bot, users, chats, messages, callback queries,
files, commands, pending updates and the call log."""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import aiohttp

from bot.emulator.errors import bad_request
from bot.emulator.limits import RateLimiter
from bot.emulator.updates import UpdateQueue
from bot.emulator.webhook import WebhookSender

__all__ = [
    "ApiCall",
    "BotIdentity",
    "CallbackAnswer",
    "CallbackRecord",
    "ChatRecord",
    "FileRecord",
    "InlineButton",
    "Json",
    "KeyboardButton",
    "MessageVersion",
    "SentMessage",
    "State",
    "UserRecord",
    "keyboard_rows",
]

Json = dict[str, Any]


class InlineButton(NamedTuple):
    """An inline keyboard button: its text and its callback data or URL."""

    text: str
    callback_data: str | None
    url: str | None


class KeyboardButton(NamedTuple):
    """A reply keyboard button."""

    text: str
    request_contact: bool


@dataclass(frozen=True)
class ApiCall:
    """One Bot API request the bot made, and how it ended."""

    method: str
    params: Json
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class CallbackAnswer:
    """What the bot answered to a callback query."""

    text: str | None
    show_alert: bool
    url: str | None


@dataclass
class CallbackRecord:
    """A callback query a user produced by pressing a button."""

    id: str
    user_id: int
    chat_id: int | None
    message_id: int | None
    data: str | None
    answer: CallbackAnswer | None = None


@dataclass(frozen=True)
class FileRecord:
    """A file the bot uploaded (or a user sent), downloadable under path."""

    file_id: str
    file_unique_id: str
    data: bytes
    path: str
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class BotIdentity:
    """The bot as getMe describes it."""

    id: int
    first_name: str
    username: str
    can_join_groups: bool = True
    can_read_all_group_messages: bool = False
    supports_inline_queries: bool = False

    def user_json(self) -> Json:
        """The bot as a User object (the `from` of its messages)."""
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def me_json(self) -> Json:
        """The getMe result."""
        return {
            **self.user_json(),
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": self.supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }


@dataclass
class UserRecord:
    """A simulated Telegram user."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    started: bool = False
    blocked: bool = False

    def json(self) -> Json:
        """The User object."""
        user: Json = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


@dataclass(frozen=True)
class MessageVersion:
    """The content of a bot message at one moment (edits keep the earlier ones)."""

    text: str | None = None
    html: str | None = None
    entities: tuple[Json, ...] = ()
    caption: str | None = None
    caption_html: str | None = None
    caption_entities: tuple[Json, ...] = ()
    reply_markup: Json | None = None
    photo: bytes | None = None


class SentMessage:
    """A message the bot sent, in its current state; `edits` holds the earlier versions."""

    def __init__(self, raw: Json, version: MessageVersion) -> None:
        self.raw = raw
        self.current = version
        self.edits: list[MessageVersion] = []
        self.deleted = False

    def __repr__(self) -> str:
        content = self.text if self.text is not None else f"[photo] {self.caption or ''}"
        return f"<SentMessage {self.chat_id}/{self.message_id} {content!r}>"

    def update(self, version: MessageVersion) -> None:
        """Apply an edit, keeping the previous version in edits."""
        self.edits.append(self.current)
        self.current = version

    @property
    def message_id(self) -> int:
        """The message's id in its chat."""
        return int(self.raw["message_id"])

    @property
    def chat_id(self) -> int:
        """The chat it was sent to."""
        return int(self.raw["chat"]["id"])

    @property
    def text(self) -> str | None:
        """Plain text, after parsing the markup."""
        return self.current.text

    @property
    def html(self) -> str | None:
        """The text as the bot sent it (HTML when parse_mode was HTML)."""
        return self.current.html

    @property
    def entities(self) -> list[Json]:
        """The text's entities, offsets in UTF-16 code units."""
        return list(self.current.entities)

    @property
    def caption(self) -> str | None:
        """Plain caption of a photo."""
        return self.current.caption

    @property
    def caption_html(self) -> str | None:
        """The caption as the bot sent it."""
        return self.current.caption_html

    @property
    def caption_entities(self) -> list[Json]:
        """The caption's entities."""
        return list(self.current.caption_entities)

    @property
    def photo(self) -> bytes | None:
        """The photo's bytes, if this is a photo message."""
        return self.current.photo

    @property
    def reply_markup(self) -> Json | None:
        """The markup as sent (inline keyboard, reply keyboard, removal or force reply)."""
        return self.current.reply_markup

    @property
    def buttons(self) -> list[list[InlineButton]]:
        """Inline keyboard rows (empty without one)."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            [InlineButton(b["text"], b.get("callback_data"), b.get("url")) for b in row]
            for row in rows
        ]

    @property
    def reply_keyboard(self) -> list[list[KeyboardButton]] | None:
        """Reply keyboard rows, if this message showed one."""
        return keyboard_rows(self.reply_markup)

    @property
    def removes_keyboard(self) -> bool:
        """Whether this message removed the reply keyboard."""
        return bool((self.reply_markup or {}).get("remove_keyboard"))


def keyboard_rows(markup: Json | None) -> list[list[KeyboardButton]] | None:
    """The rows of a reply keyboard markup, or None if it is not one."""
    rows = (markup or {}).get("keyboard")
    if rows is None:
        return None
    return [
        [
            KeyboardButton(b, False)
            if isinstance(b, str)
            else KeyboardButton(b["text"], bool(b.get("request_contact")))
            for b in row
        ]
        for row in rows
    ]


@dataclass
class ChatRecord:
    """A chat: private (id = user id) or a group, supergroup or channel (negative id)."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    user: UserRecord | None = None
    bot_status: str = "member"
    next_message_id: int = 1
    messages: dict[int, Json] = field(default_factory=dict)
    sent: list[SentMessage] = field(default_factory=list)
    sent_by_id: dict[int, SentMessage] = field(default_factory=dict)
    members: dict[int, str] = field(default_factory=dict)
    reply_keyboard: Json | None = None
    chat_instance: str = field(default_factory=lambda: str(secrets.randbits(62)))

    @property
    def is_group(self) -> bool:
        """Not a private chat."""
        return self.type != "private"

    def json(self) -> Json:
        """The Chat object inside messages."""
        if self.user is not None:
            chat: Json = {"id": self.id, "type": "private", "first_name": self.user.first_name}
            if self.user.last_name:
                chat["last_name"] = self.user.last_name
            if self.user.username:
                chat["username"] = self.user.username
            return chat
        chat = {"id": self.id, "type": self.type, "title": self.title or ""}
        if self.username:
            chat["username"] = self.username
        return chat

    def full_json(self) -> Json:
        """The ChatFullInfo of getChat."""
        return {
            **self.json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    def take_message_id(self) -> int:
        """The next message id in this chat."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


class Changes:
    """Wakes waiters whenever something happened (a bot call, a delivery)."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        """Something changed: re-check every waiting predicate."""
        if not self._waiters:
            return
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_until(self, predicate: Callable[[], bool], seconds: float) -> None:
        """Return once predicate() holds; TimeoutError after the given seconds."""
        async with asyncio.timeout(seconds):
            while not predicate():
                waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                await waiter


class State:
    """The emulated server's memory; methods and simulated users both work on it."""

    def __init__(
        self,
        token: str,
        bot: BotIdentity,
        *,
        strict_html: bool = True,
        record_calls: bool = True,
        webhook_attempts: int = 3,
        webhook_backoff: float = 0.05,
    ) -> None:
        self.token = token
        self.bot = bot
        self.strict_html = strict_html
        self.record_calls = record_calls
        self.users: dict[int, UserRecord] = {}
        self.chats: dict[int, ChatRecord] = {}
        self.usernames: dict[str, int] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.files: dict[str, FileRecord] = {}
        self.file_paths: dict[str, FileRecord] = {}
        self.commands: dict[tuple[str, str], list[Json]] = {}
        self.menu_buttons: dict[int | None, Json] = {}
        self.profile: dict[tuple[str, str], str] = {}
        self.http: aiohttp.ClientSession | None = None
        self.calls: list[ApiCall] = []
        self.changes = Changes()
        self.updates = UpdateQueue()
        self.limiter = RateLimiter()
        self.send_delay = 0.0  # seconds between delivering a sent message and answering
        self.webhook = WebhookSender(
            self.updates,
            self.changes.notify,
            attempts=webhook_attempts,
            backoff=webhook_backoff,
        )
        self._ids = itertools.count(1)

    # -- lookup ---------------------------------------------------------------------------

    def chat(self, chat_id: int | str | None) -> ChatRecord:
        """The chat with this id or a public chat's @username; else 400 "chat not found"."""
        if isinstance(chat_id, str):
            found = self.usernames.get(chat_id.removeprefix("@").lower())
            chat_id = found
        chat = self.chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    # -- people and chats -----------------------------------------------------------------

    def add_user(self, user: UserRecord) -> UserRecord:
        """Register a user and their private chat with the bot (id = user id)."""
        existing = self.users.get(user.id)
        if existing is not None:
            return existing
        self.users[user.id] = user
        self.chats[user.id] = ChatRecord(user.id, "private", user=user)
        return user

    def add_group(self, chat: ChatRecord) -> ChatRecord:
        """Register a group, supergroup or channel the bot is in."""
        existing = self.chats.get(chat.id)
        if existing is not None:
            return existing
        self.chats[chat.id] = chat
        if chat.username:
            self.usernames[chat.username.lower()] = chat.id
        return chat

    # -- messages and updates -------------------------------------------------------------

    def emit(self, kind: str, payload: Json) -> Json | None:
        """Queue an update for the bot (dropped if allowed_updates excludes its type)."""
        update = self.updates.push(kind, payload)
        self.changes.notify()
        return update

    def user_message(self, user: UserRecord, chat: ChatRecord, content: Json) -> Json:
        """A user writes to a chat: store the message and emit the `message` update."""
        if chat.user is user:
            if user.blocked:
                self.set_blocked(user, False)
            user.started = True
        elif chat.is_group and user.id not in chat.members:
            chat.members[user.id] = "member"
        message = {
            "message_id": chat.take_message_id(),
            "from": user.json(),
            "chat": chat.json(),
            "date": int(time.time()),
            **content,
        }
        chat.messages[message["message_id"]] = message
        self.emit("message", message)
        return message

    def bot_message(self, chat: ChatRecord, content: Json, version: MessageVersion) -> SentMessage:
        """The bot's message lands in a chat."""
        raw = {
            "message_id": chat.take_message_id(),
            "from": self.bot.user_json(),
            "chat": chat.json(),
            "date": int(time.time()),
            **content,
        }
        sent = SentMessage(raw, version)
        chat.messages[sent.message_id] = raw
        chat.sent.append(sent)
        chat.sent_by_id[sent.message_id] = sent
        markup = version.reply_markup or {}
        if "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        return sent

    def set_blocked(self, user: UserRecord, blocked: bool) -> None:
        """A user blocks or unblocks the bot: emit my_chat_member (kicked / member)."""
        if user.blocked == blocked:
            return
        user.blocked = blocked
        bot_user = self.bot.user_json()
        member: Json = {"status": "member", "user": bot_user}
        kicked: Json = {"status": "kicked", "user": bot_user, "until_date": 0}
        self.emit(
            "my_chat_member",
            {
                "chat": self.chats[user.id].json(),
                "from": user.json(),
                "date": int(time.time()),
                "old_chat_member": member if blocked else kicked,
                "new_chat_member": kicked if blocked else member,
            },
        )

    def new_callback(
        self, user: UserRecord, chat: ChatRecord, message: Json | None, data: str | None
    ) -> CallbackRecord:
        """A user presses an inline button: emit the callback_query update."""
        query_id = str(self.bot.id * 1000 + next(self._ids) + 10**17)
        record = CallbackRecord(
            query_id, user.id, chat.id, message["message_id"] if message else None, data
        )
        self.callbacks[query_id] = record
        payload: Json = {"id": query_id, "from": user.json(), "chat_instance": chat.chat_instance}
        if message is not None:
            payload["message"] = message
        if data is not None:
            payload["data"] = data
        self.emit("callback_query", payload)
        return record

    # -- files ----------------------------------------------------------------------------

    def store_file(
        self, data: bytes, folder: str, extension: str, width: int = 0, height: int = 0
    ) -> FileRecord:
        """Keep uploaded bytes under a fresh file_id and download path."""
        number = next(self._ids)
        record = FileRecord(
            file_id=f"AgAC{secrets.token_urlsafe(24)}",
            file_unique_id=f"AQAD{secrets.token_urlsafe(8)}",
            data=data,
            path=f"{folder}/file_{number}.{extension}",
            width=width,
            height=height,
        )
        self.files[record.file_id] = record
        self.file_paths[record.path] = record
        return record

    # -- commands -------------------------------------------------------------------------

    @staticmethod
    def scope_key(scope: Json | None) -> str:
        """A canonical key of a BotCommandScope."""
        return json.dumps(scope or {"type": "default"}, sort_keys=True)

    def log(self, call: ApiCall) -> None:
        """Record a call (when recording is on) and wake waiters."""
        if self.record_calls:
            self.calls.append(call)
        self.changes.notify()

    def edit_version(self, sent: SentMessage, **changes: Any) -> MessageVersion:
        """The message's current version with some fields replaced."""
        return replace(sent.current, **changes)
