"""Simulated people and groups: the Python side of the emulator that tests and demos drive."""

from __future__ import annotations

import re
import secrets

from bot.emulator.state import (
    CallbackAnswer,
    CallbackRecord,
    ChatRecord,
    InlineButton,
    Json,
    KeyboardButton,
    SentMessage,
    State,
    UserRecord,
    keyboard_rows,
)
from bot.emulator.validation import image_size

__all__ = ["Press", "SimulatedGroup", "SimulatedUser"]

_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "left", "kicked"})


def text_content(text: str) -> Json:
    """A text message's content, with the bot_command entity Telegram adds at offset 0."""
    content: Json = {"text": text}
    command = _COMMAND.match(text)
    if command:
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
    return content


class _Inbox:
    """Reads a chat's bot messages in order, one per wait."""

    def __init__(self, state: State, chat: ChatRecord) -> None:
        self._state = state
        self._chat = chat
        self._read = 0

    async def next(self, seconds: float) -> SentMessage:
        sent = self._chat.sent
        try:
            await self._state.changes.wait_until(lambda: len(sent) > self._read, seconds)
        except TimeoutError:
            raise TimeoutError(
                f"no new message from the bot in chat {self._chat.id} within {seconds} s"
            ) from None
        message = sent[self._read]
        self._read += 1
        return message


class Press:
    """A button press (callback query); `answer` is set once the bot answers it."""

    def __init__(self, state: State, record: CallbackRecord) -> None:
        self._state = state
        self._record = record

    def __repr__(self) -> str:
        return f"<Press {self.id} data={self.data!r} answer={self.answer!r}>"

    @property
    def id(self) -> str:
        """The callback query id."""
        return self._record.id

    @property
    def data(self) -> str | None:
        """The callback data sent."""
        return self._record.data

    @property
    def answer(self) -> CallbackAnswer | None:
        """The bot's answerCallbackQuery, if any yet."""
        return self._record.answer

    async def answered(self, timeout: float = 5.0) -> CallbackAnswer:  # noqa: ASYNC109
        """Wait for the bot to answer this query."""
        try:
            await self._state.changes.wait_until(lambda: self._record.answer is not None, timeout)
        except TimeoutError:
            raise TimeoutError(f"callback query {self.id} not answered in {timeout} s") from None
        assert self._record.answer is not None
        return self._record.answer


def _pressable(message: SentMessage, button: InlineButton) -> str:
    if message.deleted:
        raise LookupError(f"message {message.message_id} was deleted")
    if button.callback_data is None:
        raise ValueError(f"button {button.text!r} has no callback data (url: {button.url})")
    return button.callback_data


class SimulatedUser:
    """A Telegram user in a private chat with the bot (chat id = user id)."""

    def __init__(self, state: State, record: UserRecord) -> None:
        self._state = state
        self.record = record
        self._chat = state.chats[record.id]
        self._inbox = _Inbox(state, self._chat)

    def __repr__(self) -> str:
        return f"<SimulatedUser {self.id} {self.record.first_name!r}>"

    @property
    def id(self) -> int:
        """The user id, also the private chat id."""
        return self.record.id

    @property
    def messages(self) -> list[SentMessage]:
        """Everything the bot sent to this user, in order, in its current state."""
        return list(self._chat.sent)

    @property
    def keyboard(self) -> list[list[KeyboardButton]] | None:
        """The reply keyboard the user currently sees, if any."""
        return keyboard_rows(self._chat.reply_keyboard)

    @property
    def blocked(self) -> bool:
        """Whether the user has blocked the bot."""
        return self.record.blocked

    async def send(self, text: str) -> Json:
        """Write a text message (a leading /command gets its bot_command entity)."""
        return self._state.user_message(self.record, self._chat, text_content(text))

    async def start(self, payload: str | None = None) -> Json:
        """Press Start, possibly from a t.me/<bot>?start=<payload> link."""
        return await self.send(f"/start {payload}" if payload else "/start")

    async def share_contact(self, phone_number: str) -> Json:
        """Share one's own phone number, as a request_contact button does."""
        return await self.send_contact(
            phone_number, self.record.first_name, last_name=self.record.last_name, user_id=self.id
        )

    async def send_contact(
        self,
        phone_number: str,
        first_name: str,
        *,
        last_name: str | None = None,
        user_id: int | None = None,
    ) -> Json:
        """Send any contact card (possibly someone else's, or with no user id)."""
        contact: Json = {"phone_number": phone_number, "first_name": first_name}
        if last_name:
            contact["last_name"] = last_name
        if user_id is not None:
            contact["user_id"] = user_id
        return self._state.user_message(self.record, self._chat, {"contact": contact})

    async def send_photo(
        self, data: bytes, caption: str | None = None, caption_entities: list[Json] | None = None
    ) -> Json:
        """Send a photo (PNG, JPEG or GIF bytes), stored as Telegram would, with a caption."""
        width, height, extension = image_size(data)
        stored = self._state.store_file(data, "photos", extension, width, height)
        photo = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(data),
            "width": width,
            "height": height,
        }
        content: Json = {"photo": [photo]}
        if caption:
            content["caption"] = caption
        if caption_entities:
            content["caption_entities"] = caption_entities
        return self._state.user_message(self.record, self._chat, content)

    async def send_sticker(self, emoji: str = "👍") -> Json:
        """Send a sticker."""
        sticker = {
            "file_id": f"CAACAgIAAxkBAA{secrets.token_urlsafe(16)}",
            "file_unique_id": f"AgAD{secrets.token_urlsafe(6)}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._state.user_message(self.record, self._chat, {"sticker": sticker})

    async def send_in(self, group: SimulatedGroup, text: str) -> Json:
        """Write a text message in a group (joining it if needed)."""
        return self._state.user_message(self.record, group.chat, text_content(text))

    async def wait_for_message(self, timeout: float = 5.0) -> SentMessage:  # noqa: ASYNC109
        """The next bot message in this chat not yet returned by this method."""
        return await self._inbox.next(timeout)

    async def press(self, target: str | SentMessage, index: int = 0) -> Press:
        """Press an inline button: by its text (newest message first) or by message and index."""
        if isinstance(target, SentMessage):
            buttons = [button for row in target.buttons for button in row]
            if not 0 <= index < len(buttons):
                raise LookupError(f"message {target.message_id} has no button {index}")
            return self._press(target, _pressable(target, buttons[index]))
        for message in reversed(self._chat.sent):
            if message.deleted:
                continue
            for row in message.buttons:
                for button in row:
                    if button.text == target:
                        return self._press(message, _pressable(message, button))
        raise LookupError(f"no inline button {target!r} in the chat with {self.id}")

    async def press_data(self, data: str, message: SentMessage | None = None) -> Press:
        """A callback query with arbitrary data, as a forged client could send."""
        if message is None:
            message = next((m for m in reversed(self._chat.sent) if not m.deleted), None)
        return self._press(message, data)

    def _press(self, message: SentMessage | None, data: str) -> Press:
        chat = self._state.chats[message.chat_id] if message else self._chat
        raw = dict(message.raw) if message else None
        return Press(self._state, self._state.new_callback(self.record, chat, raw, data))

    async def block_bot(self) -> None:
        """Block the bot: sends fail with 403, the bot gets my_chat_member "kicked"."""
        self._state.set_blocked(self.record, True)

    async def unblock_bot(self) -> None:
        """Unblock the bot: the bot gets my_chat_member "member"."""
        self._state.set_blocked(self.record, False)


class SimulatedGroup:
    """A group (or supergroup or channel) the bot is a member of."""

    def __init__(self, state: State, chat: ChatRecord) -> None:
        self._state = state
        self.chat = chat
        self._inbox = _Inbox(state, chat)

    def __repr__(self) -> str:
        return f"<SimulatedGroup {self.chat_id} {self.chat.title!r}>"

    @property
    def chat_id(self) -> int:
        """The chat id (negative)."""
        return self.chat.id

    @property
    def messages(self) -> list[SentMessage]:
        """Everything the bot sent to this group, in order."""
        return list(self.chat.sent)

    def set_member(self, user: SimulatedUser | int, status: str = "member") -> None:
        """Set what getChatMember answers for a user: creator, administrator, member, ..."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"unknown member status {status!r}")
        self.chat.members[user.id if isinstance(user, SimulatedUser) else user] = status

    async def wait_for_message(self, timeout: float = 5.0) -> SentMessage:  # noqa: ASYNC109
        """The next bot message in this group not yet returned by this method."""
        return await self._inbox.next(timeout)
