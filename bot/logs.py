"""Logging for `run`: one format, the LOG_LEVEL chosen, and no secret in any line.

Libraries that would log the bot token, the webhook secret or a person's messages are
held at a floor level, so they never log them in the first place (httpx logs every
request's URL, and the Bot API puts the token in the URL; python-telegram-bot logs its
URLs and every call's parameters at DEBUG). As a safety net every record is scrubbed of the
token and the secret as it is made, whichever handler formats it later (uvicorn's own too).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"

FLOORS = {  # the lowest level each library may log at, and why
    "httpx": logging.WARNING,  # INFO: every request URL, which holds the bot token
    "httpcore": logging.INFO,  # DEBUG: every connection event
    "telegram.Bot": logging.INFO,  # DEBUG: the API URL (token) and every call's parameters
    "telegram.ext.ExtBot": logging.INFO,  # the same, for the bot the application uses
    "telegram.ext.Application": logging.INFO,  # DEBUG: every update, with people's data
    "telegram.ext.Updater": logging.INFO,  # DEBUG: every update fetched
    "aiosqlite": logging.INFO,  # DEBUG: every statement with its parameters
    "aiogram.event": logging.WARNING,  # INFO: one line per update handled
    "alembic.runtime.plugins": logging.WARNING,  # INFO: seven plugin lines on every start
}


def setup_logging(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr at `level`, libraries held at their floors, `secrets` never shown."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    chosen = logging.getLevelName(level)
    for name, floor in FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, chosen))
    redact_records(secrets)


def redact_records(secrets: Iterable[str]) -> None:
    """From now on, every log record made has each of `secrets` replaced by REDACTED."""
    words = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
    if not words:
        return
    make: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        scrub(record, words)
        return record

    logging.setLogRecordFactory(factory)


def scrub(record: logging.LogRecord, words: tuple[str, ...]) -> None:
    """Replace `words` in a record's message, arguments and exception text."""

    def clean(text: str) -> str:
        for word in words:
            text = text.replace(word, REDACTED)
        return text

    if isinstance(record.msg, str):
        record.msg = clean(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(clean(a) if isinstance(a, str) else a for a in record.args)
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        return  # a malformed call: the handler reports it, as it would anyway
    if any(word in message for word in words):  # inside an argument that is not a string
        record.msg, record.args = clean(message), None
    if record.exc_info and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        if any(word in text for word in words):
            record.exc_text = clean(text)
