"""The Bot API methods: one coroutine per method, working on the emulator's State.

Each returns the `result` of a successful call or raises ApiError. Method names are matched
case-insensitively, as Telegram does.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

from bot.emulator.errors import ApiError, bad_request, forbidden
from bot.emulator.params import Params
from bot.emulator.state import (
    ApiCall,
    CallbackAnswer,
    ChatRecord,
    FileRecord,
    Json,
    MessageVersion,
    SentMessage,
    State,
)
from bot.emulator.updates import TERMINATED_BY_WEBHOOK
from bot.emulator.validation import (
    CHAT_ACTIONS,
    NOT_MODIFIED,
    check_callback_answer,
    check_caption,
    check_commands,
    check_reply_markup,
    check_scope,
    check_text,
    check_webhook,
    format_text,
    image_size,
    inline_part,
)
from bot.emulator.webhook import WebhookConfig
from bot.html import FormattedText

__all__ = ["METHODS", "Method", "find_method"]

Method = Callable[[State, Params], Awaitable[Any]]
METHODS: dict[str, tuple[str, Method]] = {}
"""Lower-cased method name -> (canonical name, implementation)."""

WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
_LANGUAGE = re.compile(r"[a-z]{2}")


F = TypeVar("F", bound=Method)


def method(name: str) -> Callable[[F], F]:
    """Register a function as the implementation of a Bot API method."""

    def register(function: F) -> F:
        METHODS[name.lower()] = (name, function)
        return function

    return register


def find_method(name: str) -> tuple[str, Method] | None:
    """The canonical name and implementation of a method, case-insensitively."""
    return METHODS.get(name.lower())


# -- shared checks --------------------------------------------------------------------------


def _chat(state: State, p: Params) -> ChatRecord:
    return state.chat(p.chat_id())


def _reachable(chat: ChatRecord) -> None:
    """403 when a private chat's user blocked the bot or never wrote to it."""
    user = chat.user
    if user is None:
        return
    if user.blocked:
        raise forbidden("bot was blocked by the user")
    if not user.started:
        raise forbidden("bot can't initiate conversation with a user")


def _flood(state: State, chat: ChatRecord, p: Params) -> None:
    wait = state.limiter.check(chat.id, chat.is_group, p.flag("allow_paid_broadcast"))
    if wait:
        raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)


async def _answer_late(state: State) -> None:
    """A slow Bot API: the message is delivered, the answer comes `send_delay` s later."""
    if state.send_delay > 0:
        await asyncio.sleep(state.send_delay)


def _reply_to(chat: ChatRecord, p: Params) -> Json | None:
    """The message being replied to (reply_parameters or the older reply_to_message_id)."""
    reply = p.json("reply_parameters", "reply parameters")
    allow_missing = p.flag("allow_sending_without_reply")
    if isinstance(reply, dict):
        target_id = reply.get("message_id")
        allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
    else:
        target_id = p.integer("reply_to_message_id")
    if target_id is None:
        return None
    target = chat.messages.get(int(target_id))
    if target is None:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return {key: value for key, value in target.items() if key != "reply_to_message"}


def _link_preview(p: Params) -> Json | None:
    options = p.json("link_preview_options", "link preview options")
    if isinstance(options, dict):
        return options
    if p.flag("disable_web_page_preview"):
        return {"is_disabled": True}
    return None


def _delivery_options(p: Params, content: Json) -> None:
    """disable_notification and protect_content (the latter shows in the message)."""
    p.flag("disable_notification")
    if p.flag("protect_content"):
        content["has_protected_content"] = True


def _formatted(
    state: State, p: Params, field: str, entities_field: str
) -> tuple[str | None, FormattedText]:
    """(source as sent, parsed text and entities) of a text or caption parameter."""
    source = p.text(field)
    formatted = format_text(
        source, p.text("parse_mode"), p.json(entities_field), strict=state.strict_html
    )
    return source, formatted


def _content(
    text_key: str, text: str, entities: list[Json], markup: Json | None, preview: Json | None = None
) -> Json:
    content: Json = {}
    if text:
        content[text_key] = text
    if entities:
        content["caption_entities" if text_key == "caption" else "entities"] = entities
    if preview is not None:
        content["link_preview_options"] = preview
    inline = inline_part(markup)
    if inline is not None:
        content["reply_markup"] = inline
    return content


# -- identity and updates -------------------------------------------------------------------


@method("getMe")
async def get_me(state: State, p: Params) -> Json:
    """The bot itself."""
    return state.bot.me_json()


@method("logOut")
async def log_out(state: State, p: Params) -> bool:
    """Accepted and ignored."""
    return True


@method("close")
async def close(state: State, p: Params) -> bool:
    """Accepted and ignored."""
    return True


@method("getUpdates")
async def get_updates(state: State, p: Params) -> list[Json]:
    """Long polling: confirm updates below offset, wait up to timeout for new ones."""
    if state.webhook.config is not None:
        raise ApiError(409, WEBHOOK_ACTIVE)
    offset = p.integer("offset")
    limit = min(max(p.integer("limit") or 100, 1), 100)
    timeout = p.number("timeout") or 0.0
    allowed = p.json("allowed_updates", "allowed updates")
    if isinstance(allowed, list):
        state.updates.set_allowed(str(kind) for kind in allowed)
    return await state.updates.get_updates(offset, limit, timeout)


@method("setWebhook")
async def set_webhook(state: State, p: Params) -> bool:
    """Deliver updates by POSTing them to a URL from now on."""
    url = p.text("url") or ""
    if not url:
        return await delete_webhook(state, p)
    secret = p.text("secret_token")
    check_webhook(url, secret)
    max_connections = min(max(p.integer("max_connections") or 40, 1), 100)
    allowed = p.json("allowed_updates", "allowed updates")
    if isinstance(allowed, list):
        state.updates.set_allowed(str(kind) for kind in allowed)
    if p.flag("drop_pending_updates"):
        state.updates.drop_pending()
    if state.http is None:
        raise ApiError(500, "Internal Server Error: the emulator is not running")
    state.updates.interrupt_polling(TERMINATED_BY_WEBHOOK)
    config = WebhookConfig(url, secret or None, max_connections, p.text("ip_address"))
    state.webhook.start(config, state.http)
    return True


@method("deleteWebhook")
async def delete_webhook(state: State, p: Params) -> bool:
    """Back to getUpdates."""
    state.webhook.stop()
    if p.flag("drop_pending_updates"):
        state.updates.drop_pending()
    return True


@method("getWebhookInfo")
async def get_webhook_info(state: State, p: Params) -> Json:
    """The webhook, pending updates and the last delivery error."""
    config = state.webhook.config
    info: Json = {
        "url": config.url if config else "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates) + state.webhook.in_flight,
    }
    if config is not None:
        info["max_connections"] = config.max_connections
        if config.ip_address:
            info["ip_address"] = config.ip_address
        if state.updates.allowed_updates is not None:
            info["allowed_updates"] = state.updates.allowed_updates
        if state.webhook.last_error is not None:
            info["last_error_date"], info["last_error_message"] = state.webhook.last_error
    return info


# -- sending --------------------------------------------------------------------------------


@method("sendMessage")
async def send_message(state: State, p: Params) -> Json:
    """A text message, HTML parsed, with an optional keyboard."""
    chat = _chat(state, p)
    source, (text, entities) = _formatted(state, p, "text", "entities")
    check_text(FormattedText(text, entities))
    markup = check_reply_markup(
        p.json("reply_markup", "reply keyboard markup"), private=not chat.is_group
    )
    reply = _reply_to(chat, p)
    preview = _link_preview(p)
    _reachable(chat)
    _flood(state, chat, p)
    content = _content("text", text, entities, markup, preview)
    _delivery_options(p, content)
    if reply is not None:
        content["reply_to_message"] = reply
    sent = state.bot_message(
        chat,
        content,
        MessageVersion(text=text, html=source, entities=tuple(entities), reply_markup=markup),
    )
    await _answer_late(state)
    return sent.raw


async def _photo_file(state: State, p: Params) -> tuple[FileRecord | None, bytes | None]:
    """(known file, None) for a file_id; (None, bytes) for an upload or a URL."""
    value = p.values.get("photo")
    upload = p.files.get("photo")
    if isinstance(value, str) and value.startswith("attach://"):
        upload = p.files.get(value.removeprefix("attach://"))
        if upload is None:
            raise bad_request("there is no photo in the request")
    if upload is not None:
        p.decoded["photo"] = f"<upload {upload.filename}, {len(upload.data)} bytes>"
        return None, upload.data
    if not isinstance(value, str) or not value:
        raise bad_request("there is no photo in the request")
    known = state.files.get(value)
    if known is not None:
        return known, None
    if value.startswith(("http://", "https://")) and state.http is not None:
        try:
            async with state.http.get(value, timeout=aiohttp.ClientTimeout(total=5)) as answer:
                if answer.status == 200:
                    return None, await answer.read()
        except (aiohttp.ClientError, TimeoutError):
            pass
        raise bad_request("failed to get HTTP URL content")
    raise bad_request("wrong file identifier/HTTP URL specified")


@method("sendPhoto")
async def send_photo(state: State, p: Params) -> Json:
    """A photo (upload, file_id or URL) with an optional caption."""
    chat = _chat(state, p)
    known, data = await _photo_file(state, p)
    source, (caption, entities) = _formatted(state, p, "caption", "caption_entities")
    check_caption(FormattedText(caption, entities))
    markup = check_reply_markup(
        p.json("reply_markup", "reply keyboard markup"), private=not chat.is_group
    )
    reply = _reply_to(chat, p)
    size = image_size(data) if data is not None else None
    _reachable(chat)
    _flood(state, chat, p)
    if data is not None and size is not None:
        width, height, extension = size
        known = state.store_file(data, "photos", extension, width, height)
    assert known is not None
    photo = {
        "file_id": known.file_id,
        "file_unique_id": known.file_unique_id,
        "file_size": len(known.data),
        "width": known.width,
        "height": known.height,
    }
    content: Json = {"photo": [photo], **_content("caption", caption, entities, markup)}
    if p.flag("has_spoiler"):
        content["has_media_spoiler"] = True
    _delivery_options(p, content)
    if reply is not None:
        content["reply_to_message"] = reply
    sent = state.bot_message(
        chat,
        content,
        MessageVersion(
            caption=caption or None,
            caption_html=source,
            caption_entities=tuple(entities),
            reply_markup=markup,
            photo=known.data,
        ),
    )
    await _answer_late(state)
    return sent.raw


@method("sendChatAction")
async def send_chat_action(state: State, p: Params) -> bool:
    """ "typing..." and the like."""
    chat = _chat(state, p)
    if p.text("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    _reachable(chat)
    return True


# -- editing and deleting -------------------------------------------------------------------


def _editable(state: State, p: Params) -> tuple[ChatRecord, SentMessage]:
    if p.text("inline_message_id"):
        raise bad_request("message to edit not found")
    chat = _chat(state, p)
    message_id = p.integer("message_id")
    sent = chat.sent_by_id.get(message_id) if message_id is not None else None
    if sent is None or sent.deleted:
        if message_id is not None and message_id in chat.messages:
            raise bad_request("message can't be edited")
        raise bad_request("message to edit not found")
    return chat, sent


def _apply_edit(
    state: State,
    chat: ChatRecord,
    sent: SentMessage,
    content: Json,
    keys: tuple[str, ...],
    **changes: Any,
) -> Json:
    """Edit unless nothing changes; keys are the message fields the edit sets or clears."""
    version = state.edit_version(sent, **changes)
    old = sent.current
    same = (
        version.text,
        version.entities,
        version.caption,
        version.caption_entities,
        inline_part(version.reply_markup),
    ) == (old.text, old.entities, old.caption, old.caption_entities, inline_part(old.reply_markup))
    if same:
        raise bad_request(NOT_MODIFIED)
    _reachable(chat)
    sent.update(version)
    raw = sent.raw
    for key in keys:
        if key in content:
            raw[key] = content[key]
        else:
            raw.pop(key, None)
    raw["edit_date"] = int(time.time())
    state.changes.notify()
    return raw


@method("editMessageText")
async def edit_message_text(state: State, p: Params) -> Json:
    """New text (and keyboard: omitting reply_markup removes it)."""
    chat, sent = _editable(state, p)
    if sent.current.text is None:
        raise bad_request("there is no text in the message to edit")
    source, (text, entities) = _formatted(state, p, "text", "entities")
    check_text(FormattedText(text, entities))
    markup = check_reply_markup(p.json("reply_markup", "reply keyboard markup"), inline_only=True)
    result = _apply_edit(
        state,
        chat,
        sent,
        _content("text", text, entities, markup),
        ("text", "entities", "reply_markup"),
        text=text,
        html=source,
        entities=tuple(entities),
        reply_markup=markup,
    )
    preview = _link_preview(p)
    if preview is not None:
        result["link_preview_options"] = preview
    return result


@method("editMessageCaption")
async def edit_message_caption(state: State, p: Params) -> Json:
    """New caption of a photo (empty removes it)."""
    chat, sent = _editable(state, p)
    if sent.current.photo is None:
        raise bad_request("there is no caption in the message to edit")
    source, (caption, entities) = _formatted(state, p, "caption", "caption_entities")
    check_caption(FormattedText(caption, entities))
    markup = check_reply_markup(p.json("reply_markup", "reply keyboard markup"), inline_only=True)
    return _apply_edit(
        state,
        chat,
        sent,
        _content("caption", caption, entities, markup),
        ("caption", "caption_entities", "reply_markup"),
        caption=caption or None,
        caption_html=source,
        caption_entities=tuple(entities),
        reply_markup=markup,
    )


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(state: State, p: Params) -> Json:
    """New inline keyboard (omitted: removed)."""
    chat, sent = _editable(state, p)
    markup = check_reply_markup(p.json("reply_markup", "reply keyboard markup"), inline_only=True)
    return _apply_edit(
        state, chat, sent, _content("text", "", [], markup), ("reply_markup",), reply_markup=markup
    )


@method("deleteMessage")
async def delete_message(state: State, p: Params) -> bool:
    """Delete a bot message, or a user's message in a private chat."""
    chat = _chat(state, p)
    message_id = p.integer("message_id")
    if message_id is None or chat.messages.pop(message_id, None) is None:
        raise bad_request("message to delete not found")
    sent = chat.sent_by_id.get(message_id)
    if sent is not None:
        sent.deleted = True
    state.changes.notify()
    return True


# -- callback queries -----------------------------------------------------------------------


@method("answerCallbackQuery")
async def answer_callback_query(state: State, p: Params) -> bool:
    """Answer a button press once: optional toast or alert text."""
    query_id = p.text("callback_query_id") or ""
    record = state.callbacks.get(query_id)
    if record is None or record.answer is not None:
        raise bad_request(QUERY_TOO_OLD)
    text = p.text("text")
    check_callback_answer(text)
    record.answer = CallbackAnswer(text, p.flag("show_alert"), p.text("url"))
    state.changes.notify()
    return True


# -- commands, menu and profile -------------------------------------------------------------


def _commands_key(p: Params) -> tuple[str, str]:
    scope = check_scope(p.json("scope", "BotCommandScope"))
    language = p.text("language_code") or ""
    if language and not _LANGUAGE.fullmatch(language):
        raise bad_request("invalid language code specified")
    return State.scope_key(scope), language


@method("setMyCommands")
async def set_my_commands(state: State, p: Params) -> bool:
    """The command menu for one scope and language."""
    commands = check_commands(p.json("commands", "commands"))
    key = _commands_key(p)
    if commands:
        state.commands[key] = commands
    else:
        state.commands.pop(key, None)
    return True


@method("getMyCommands")
async def get_my_commands(state: State, p: Params) -> list[Json]:
    """The commands set for exactly this scope and language."""
    return list(state.commands.get(_commands_key(p), []))


@method("deleteMyCommands")
async def delete_my_commands(state: State, p: Params) -> bool:
    """Forget the commands of this scope and language."""
    state.commands.pop(_commands_key(p), None)
    return True


_MENU_TYPES = frozenset({"commands", "web_app", "default"})


@method("setChatMenuButton")
async def set_chat_menu_button(state: State, p: Params) -> bool:
    """The menu button of one private chat, or the default one."""
    chat_id = p.integer("chat_id")
    if chat_id is not None:
        state.chat(chat_id)
    button = p.json("menu_button", "menu button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in _MENU_TYPES:
        raise bad_request("can't parse menu button JSON object")
    state.menu_buttons[chat_id] = button
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(state: State, p: Params) -> Json:
    """The menu button of a chat, falling back to the default one."""
    chat_id = p.integer("chat_id")
    button = state.menu_buttons.get(chat_id) or state.menu_buttons.get(None)
    if button is None or button.get("type") == "default":
        return {"type": "commands"}
    return button


def _profile_setter(name: str, field: str, limit: int) -> None:
    async def setter(state: State, p: Params) -> bool:
        value = p.text(field) or ""
        if len(value) > limit:
            raise bad_request(f"{field} is too long")
        state.profile[(field, p.text("language_code") or "")] = value
        return True

    async def getter(state: State, p: Params) -> Json:
        language = p.text("language_code") or ""
        value = state.profile.get((field, language), state.profile.get((field, ""), ""))
        if field == "name" and not value:
            value = state.bot.first_name
        return {field: value}

    method(f"setMy{name}")(setter)
    method(f"getMy{name}")(getter)


_profile_setter("Name", "name", 64)
_profile_setter("Description", "description", 512)
_profile_setter("ShortDescription", "short_description", 120)


# -- chats and files ------------------------------------------------------------------------


_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
    "can_post_messages",
    "can_edit_messages",
    "can_pin_messages",
    "can_manage_topics",
)


def member_json(status: str, user: Json) -> Json:
    """A ChatMember object of the given status."""
    member: Json = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            {"can_be_edited": False, "is_anonymous": False}, **dict.fromkeys(_ADMIN_RIGHTS, True)
        )
    elif status == "kicked":
        member["until_date"] = 0
    return member


CHANNEL_ADMINS = frozenset({"administrator", "creator"})


@method("getChatMember")
async def get_chat_member(state: State, p: Params) -> Json:
    """A user's (or the bot's) membership of a chat; in a channel, only an administrator
    bot may ask about others (set a user's status with SimulatedGroup.set_member)."""
    chat = _chat(state, p)
    user_id = p.integer("user_id")
    if user_id == state.bot.id:
        status = "member" if chat.user is not None else chat.bot_status
        return member_json(status, state.bot.user_json())
    if chat.type == "channel" and chat.bot_status not in CHANNEL_ADMINS:
        raise bad_request("member list is inaccessible")  # only admins see who is in
    user = state.users.get(user_id) if user_id is not None else None
    if user is None or (chat.user is not None and chat.user is not user):
        raise bad_request("user not found")
    status = "member" if chat.user is not None else chat.members.get(user.id, "left")
    return member_json(status, user.json())


@method("getChat")
async def get_chat(state: State, p: Params) -> Json:
    """A chat's full info."""
    return _chat(state, p).full_json()


@method("getFile")
async def get_file(state: State, p: Params) -> Json:
    """A file's download path (under /file/bot<token>/)."""
    record = state.files.get(p.text("file_id") or "")
    if record is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_size": len(record.data),
        "file_path": record.path,
    }


async def call(state: State, name: str, params: Params) -> tuple[int, Json]:
    """Run a method by name: (HTTP status, Telegram's JSON answer), and log the call."""
    found = find_method(name)
    if found is None:
        return 404, ApiError(404, "Not Found").payload()
    canonical, function = found
    try:
        result = await function(state, params)
    except ApiError as error:
        state.log(ApiCall(canonical, params.logged(), False, error.description))
        return error.code, error.payload()
    state.log(ApiCall(canonical, params.logged(), True))
    return 200, {"ok": True, "result": result}
