"""What a value from outside (an API body, a CSV cell, typed text) must be to reach storage.

PostgreSQL refuses a NUL character in text and in JSON, and text that is not Unicode (a
lone surrogate: JSON's "\\ud800" escape and Python strings allow one, UTF-8 does not);
both databases refuse an integer beyond a signed 64-bit one, and a text longer than its
column; a time must have a UTC equivalent. Each edge says what is wrong in its own words,
keyed on the problem named here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

MAX_BIGINT = 2**63 - 1  # the largest BIGINT (PostgreSQL) and INTEGER (SQLite)
MIN_BIGINT = -(2**63)
MAX_NAME = 64  # a sku, category, tier or button text, wherever it comes from
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # no receipt or event from outside is older

TextProblem = Literal["nul", "surrogate", "too_long"]

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str, max_length: int | None = None) -> TextProblem | None:
    """Why `value` cannot be stored as text (of at most `max_length`), or None if it can."""
    bad = _UNSTORABLE.search(value)
    if bad is not None:
        return "nul" if bad.group() == "\x00" else "surrogate"
    if max_length is not None and len(value) > max_length:
        return "too_long"
    return None


def fits_bigint(value: int) -> bool:
    """Whether an integer fits a BIGINT column."""
    return MIN_BIGINT <= value <= MAX_BIGINT


def utc_moment(value: datetime) -> datetime | None:
    """A time from outside in UTC (a naive one is taken as UTC), or None when it is before
    EARLIEST or has no UTC equivalent (year 1 at +01:00, year 9999 at -10:00)."""
    try:
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        return None
    return moment if moment >= EARLIEST else None


def whole_number(text: str, low: int, high: int) -> int | None:
    """The integer `text` spells in ASCII digits within low..high, or None.

    Digits other than 0-9 ('²', '①', Arabic-Indic) are refused, and the length is checked
    before `int`, which refuses more than 4300 digits with an exception.
    """
    if not text.isascii() or not text.isdigit() or len(text.lstrip("0")) > len(str(high)):
        return None
    number = int(text.lstrip("0") or "0")  # leading zeros count against int's digit limit
    return number if low <= number <= high else None
