"""The safety net under `run`'s logging: the token and the secret never reach a log line."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import FLOORS, REDACTED, redact_records, setup_logging

TOKEN = "123456:AAH-secret-part_of-the-token"
SECRET = "Webhook-Secret_0123456789abcdef"


@pytest.fixture
def isolated_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger with its own handler and formatter (as uvicorn's are), not propagating; the
    record factory restored afterwards."""
    factory = logging.getLogRecordFactory()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("tests.logs.isolated")
    logger.addHandler(handler)
    logger.propagate, logger.level = False, logging.DEBUG
    yield logger, out
    logger.removeHandler(handler)
    logging.setLogRecordFactory(factory)


class Url:
    """An object whose text holds the token, as httpx's URL does."""

    def __str__(self) -> str:
        return f"https://api.telegram.org/bot{TOKEN}/getMe"


def test_every_place_a_secret_can_hide_in_a_record_is_scrubbed(isolated_logger):
    logger, out = isolated_logger
    redact_records([TOKEN, SECRET, ""])
    logger.debug(f"formatted in: {TOKEN}")
    logger.info("as an argument: %s and %r", TOKEN, SECRET)
    logger.warning("inside an object: %s", Url())
    logger.error("as a mapping: %(secret)s", {"secret": SECRET})
    try:
        raise RuntimeError(f"while calling bot{TOKEN}/setWebhook with {SECRET}")
    except RuntimeError:
        logger.exception("in the exception")
    text = out.getvalue()
    assert TOKEN not in text
    assert SECRET not in text
    assert text.count(REDACTED) == 7
    assert "https://api.telegram.org/bot[redacted]/getMe" in text
    assert "RuntimeError: while calling bot[redacted]/setWebhook with [redacted]" in text


def test_records_without_secrets_keep_their_arguments(isolated_logger):
    logger, out = isolated_logger
    redact_records([TOKEN])
    records: list[logging.LogRecord] = []
    logger.addFilter(lambda record: records.append(record) or True)
    logger.info("update %s handled in %d ms", 42, 7)
    assert records[0].args == (42, 7)  # formatters that read args (uvicorn's) still work
    assert out.getvalue() == "INFO tests.logs.isolated: update 42 handled in 7 ms\n"


def test_libraries_are_held_at_their_floor_but_never_louder_than_asked():
    before = {name: logging.getLogger(name).level for name in FLOORS}
    factory = logging.getLogRecordFactory()
    try:
        setup_logging("DEBUG", [TOKEN])
        assert logging.getLogger("httpx").level == logging.WARNING
        assert logging.getLogger("telegram.ext.ExtBot").level == logging.INFO
        setup_logging("ERROR", [TOKEN])
        assert logging.getLogger("httpx").level == logging.ERROR
    finally:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)
        logging.setLogRecordFactory(factory)
