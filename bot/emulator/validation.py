"""Telegram's checks on what a bot sends, with Telegram's error wording where it is known.

Each check returns the cleaned value or raises ApiError (400 "Bad Request: ...").
"""

from __future__ import annotations

import re
import struct
from typing import Any
from urllib.parse import urlsplit

from bot.emulator.errors import bad_request
from bot.html import FormattedText, HtmlError, parse_html, trim

__all__ = [
    "CHAT_ACTIONS",
    "NOT_MODIFIED",
    "check_callback_answer",
    "check_caption",
    "check_commands",
    "check_reply_markup",
    "check_scope",
    "check_text",
    "check_webhook",
    "format_text",
    "image_size",
    "inline_part",
]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER = 200
MAX_PHOTO_BYTES = 10 * 1024 * 1024

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
TEXT_BUTTONS_UNALLOWED = (
    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)
INLINE_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
SCOPES = {
    "default": (),
    "all_private_chats": (),
    "all_group_chats": (),
    "all_chat_administrators": (),
    "chat": ("chat_id",),
    "chat_administrators": ("chat_id",),
    "chat_member": ("chat_id", "user_id"),
}
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_BUTTON_URL_SCHEMES = frozenset({"http", "https", "tg", "ton"})


def format_text(
    source: str | None, parse_mode: str | None, entities: Any, *, strict: bool
) -> FormattedText:
    """Text and entities as Telegram stores them: markup parsed, ends trimmed."""
    if source is None:
        return FormattedText("", [])
    if entities is not None:
        if not isinstance(entities, list):
            raise bad_request("can't parse entities JSON object")
        return trim(FormattedText(source, [dict(e) for e in entities if isinstance(e, dict)]))
    mode = (parse_mode or "").lower()
    if not mode:
        return trim(FormattedText(source, []))
    if mode != "html":
        if mode in ("markdown", "markdownv2"):
            raise bad_request(f"the emulator only implements parse_mode HTML, not {parse_mode}")
        raise bad_request("unsupported parse_mode")
    try:
        return trim(parse_html(source, strict=strict))
    except HtmlError as error:
        raise bad_request(f"can't parse entities: {error}") from None


def check_text(formatted: FormattedText) -> FormattedText:
    """A message text: 1 to 4096 characters after entity parsing."""
    if not formatted.text:
        raise bad_request("message text is empty")
    if len(formatted.text) > MAX_TEXT:
        raise bad_request("message is too long")
    return formatted


def check_caption(formatted: FormattedText) -> FormattedText:
    """A caption: at most 1024 characters after entity parsing."""
    if len(formatted.text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return formatted


def check_callback_answer(text: str | None) -> None:
    """answerCallbackQuery text: 0 to 200 characters."""
    if text is not None and len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")


def _rows(markup: dict[str, Any], key: str, kind: str) -> list[list[Any]]:
    rows = markup.get(key)
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{key}" of the {kind} should be an Array of Arrays')
    return rows


def _inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    if not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not INLINE_ACTIONS & button.keys():
        raise bad_request(TEXT_BUTTONS_UNALLOWED)
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        parts = urlsplit(url) if isinstance(url, str) else None
        if (
            parts is None
            or parts.scheme.lower() not in _BUTTON_URL_SCHEMES
            or not (parts.netloc or parts.scheme.lower() == "tg")
        ):
            raise bad_request("BUTTON_URL_INVALID")


def _keyboard_button(button: Any, private: bool) -> None:
    if isinstance(button, str):
        return
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
    if button.get("request_contact") and not private:
        raise bad_request("phone number can be requested in private chats only")


def check_reply_markup(
    markup: Any, *, private: bool = True, inline_only: bool = False
) -> dict[str, Any] | None:
    """Validate reply_markup: inline keyboard, reply keyboard, removal or force reply."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        for row in _rows(markup, "inline_keyboard", "InlineKeyboardMarkup"):
            for button in row:
                _inline_button(button)
        return markup
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        for row in _rows(markup, "keyboard", "ReplyKeyboardMarkup"):
            for button in row:
                _keyboard_button(button, private)
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def inline_part(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """The markup if it is an inline keyboard (the only kind a Message echoes back)."""
    return markup if markup is not None and "inline_keyboard" in markup else None


def check_commands(commands: Any) -> list[dict[str, str]]:
    """setMyCommands: up to 100 commands, names 1-32 of a-z0-9_, descriptions 1-256."""
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    checked = []
    for entry in commands:
        if not isinstance(entry, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command = str(entry.get("command", "")).removeprefix("/")
        description = str(entry.get("description", ""))
        if not _COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("command description must be non-empty")
        checked.append({"command": command, "description": description})
    return checked


def check_scope(scope: Any) -> dict[str, Any]:
    """A BotCommandScope, normalised to its meaningful fields."""
    if scope is None:
        return {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = scope["type"]
    normalised: dict[str, Any] = {"type": kind}
    for key in SCOPES[kind]:
        if key not in scope:
            raise bad_request(f'field "{key}" must be specified for BotCommandScope "{kind}"')
        value = scope[key]
        normalised[key] = value if isinstance(value, str) and value.startswith("@") else int(value)
    return normalised


def check_webhook(url: str, secret_token: str | None) -> None:
    """setWebhook: an http(s) URL (the emulator also accepts plain http) and a valid secret."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if secret_token is not None and not _SECRET.fullmatch(secret_token):
        raise bad_request("secret token contains unallowed characters")


def image_size(data: bytes) -> tuple[int, int, str]:
    """Width, height and file extension of a PNG, JPEG or GIF; IMAGE_PROCESS_FAILED else."""
    if len(data) > MAX_PHOTO_BYTES:
        raise bad_request("file is too big")
    size = _png(data) or _gif(data) or _jpeg(data)
    if size is None:
        raise bad_request("IMAGE_PROCESS_FAILED")
    width, height, _ = size
    if (
        width + height > 10000
        or not width
        or not height
        or max(width, height) > 20 * min(width, height)
    ):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    return size


def _png(data: bytes) -> tuple[int, int, str] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR" or len(data) < 24:
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height, "png"


def _gif(data: bytes) -> tuple[int, int, str] | None:
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 10:
        return None
    width, height = struct.unpack("<HH", data[6:10])
    return width, height, "gif"


_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def _jpeg(data: bytes) -> tuple[int, int, str] | None:
    if data[:2] != b"\xff\xd8":
        return None
    index = 2
    while index + 4 <= len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker == 0xFF:
            index += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):
            index += 2
            continue
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        if marker in _SOF and index + 9 <= len(data):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height, "jpg"
        index += 2 + length
    return None
