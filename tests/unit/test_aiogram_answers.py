"""The aiogram adapter reads a sent or edited message's answer only as far as its id, and
leaves every other answer, and every error, to aiogram."""

from __future__ import annotations

import json

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import EditMessageText, GetMe, SendMessage
from aiogram.types import User

from bot.telegram.aiogram_app import KeptSession

MESSAGE = {
    "message_id": 42,
    "date": 1_700_000_000,
    "chat": {"id": 7, "type": "private", "first_name": "Ann"},
    "text": "Rewards. You have 120 points.",
    "entities": [{"type": "bold", "offset": 0, "length": 7}],
    "reply_markup": {"inline_keyboard": [[{"text": "Coffee", "callback_data": "rw:coffee:x"}]]},
}


def answer(session: KeptSession, method: object, status: int, body: object) -> object:
    bot = Bot("123456:TEST", session=session)
    return session.check_response(bot, method, status, json.dumps(body)).result  # type: ignore[arg-type]


def test_a_sent_or_edited_message_is_read_as_its_id() -> None:
    session = KeptSession()
    sent = answer(session, SendMessage(chat_id=7, text="hi"), 200, {"ok": True, "result": MESSAGE})
    assert sent.message_id == 42  # type: ignore[attr-defined]
    edit = EditMessageText(text="hi", chat_id=7, message_id=42)
    assert answer(session, edit, 200, {"ok": True, "result": True}) is True


def test_other_answers_and_errors_are_aiogram_s() -> None:
    session = KeptSession()
    me = {"id": 1, "is_bot": True, "first_name": "Bot", "username": "b"}
    assert isinstance(answer(session, GetMe(), 200, {"ok": True, "result": me}), User)
    send = SendMessage(chat_id=7, text="hi")
    refused = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    with pytest.raises(TelegramBadRequest):
        answer(session, send, 400, refused)
    slow = {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    with pytest.raises(TelegramRetryAfter):
        answer(session, send, 429, slow)
